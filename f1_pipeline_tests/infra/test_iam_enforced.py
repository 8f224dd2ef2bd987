"""Least privilege, enforced: the platform against a moto server with IAM enforcement on,
each principal an IAM user holding exactly its policy from infra/template.yaml (or, for
bootstrap, the documented actions). Every call the platform makes must be allowed, and a
control call outside each policy is denied.

moto evaluates some requests differently from AWS; each difference is worked around here,
explicitly, by adding the action moto checks beside the one AWS checks (``MOTO_ALIASES``):
- HeadBucket is checked as ``s3:HeadBucket`` (AWS: ``s3:ListBucket``);
- a few bucket-configuration calls are checked under other names (``s3:GetBucketEncryption``
  for GetBucketEncryption, whose IAM action is ``s3:GetEncryptionConfiguration``; PUT
  ``?encryption`` as ``s3:CreateBucket``; ``s3:GetPublicAccessBlock``,
  ``s3:GetBucketLifecycleConfiguration``);
- Glue actions are evaluated against the resource ``*`` (the job ARN never matches);
- ``DeleteObjects`` is checked on the bucket ARN, ``CopyObject``'s source is not checked,
  and bucket policies are not enforced (the TLS-only policy is tested as a document).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import pytest
import requests
from botocore.exceptions import ClientError
from dagster import instance_for_test

from f1_pipeline.cli.bootstrap import REQUIRED_ACTIONS, bootstrap_bucket
from f1_pipeline.cli.upload import upload_source
from f1_pipeline.core.storage import layout
from f1_pipeline.defs.sensors.source_queue import source_queue_sensor
from f1_pipeline.glue.deploy import deploy
from f1_pipeline_tests.conftest import SAMPLE_SOURCE
from f1_pipeline_tests.defs.sensors.helpers import execute, tick
from f1_pipeline_tests.infra.test_template import (
    SUBSTITUTIONS,
    _as_list,
    _load,
    policy_documents,
)

pytestmark = pytest.mark.full  # the full tier: see docs/testing.md

REGION = "eu-west-1"
ACCOUNT = "123456789012"
BUCKET = "f1-iam-bucket"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"
JOB = "f1-job"
DATABASE = "f1_db"  # test_template's ${GlueDatabaseName}
MOTO_ALIASES = {
    "s3:ListBucket": ["s3:HeadBucket"],
    "s3:GetEncryptionConfiguration": ["s3:GetBucketEncryption"],
    "s3:PutEncryptionConfiguration": ["s3:CreateBucket"],
    "s3:GetBucketPublicAccessBlock": ["s3:GetPublicAccessBlock"],
    "s3:PutBucketPublicAccessBlock": ["s3:PutPublicAccessBlock"],
    "s3:GetLifecycleConfiguration": ["s3:GetBucketLifecycleConfiguration"],
}


def _resolved(doc: dict, refs: dict[str, str]) -> dict:
    """A template policy as moto will evaluate it: substitutions and references resolved,
    moto's action names added, Glue resources as ``*``."""
    subs = {**SUBSTITUTIONS, "${BucketName}": BUCKET, "${GlueJobName}": JOB}
    statements = []
    for statement in doc["Statement"]:
        actions = _as_list(statement["Action"])
        resources = []
        for resource in _as_list(statement["Resource"]):
            if isinstance(resource, dict) and "Fn::GetAtt" in resource:
                resources.append(refs[".".join(resource["Fn::GetAtt"])])
            elif isinstance(resource, dict):
                text = resource["Fn::Sub"]
                for placeholder, value in subs.items():
                    text = text.replace(placeholder, value)
                resources.append(text)
            else:
                resources.append(resource)
        if any(a.startswith("glue:") for a in actions):
            resources = ["*"]
        if "s3:DeleteObject" in actions:
            resources.append(BUCKET_ARN)  # DeleteObjects, checked on the bucket
        actions += [alias for a in actions for alias in MOTO_ALIASES.get(a, [])]
        statements.append({"Effect": "Allow", "Action": actions, "Resource": resources})
    return {"Version": "2012-10-17", "Statement": statements}


class World:
    """One moto server with IAM enforced, and a key pair per principal."""

    def __init__(self, url: str, keys: dict[str, dict[str, str]]) -> None:
        self.url, self.keys = url, keys

    def client(self, principal: str, service: str):
        key = self.keys[principal]
        return boto3.client(
            service, endpoint_url=self.url, region_name=REGION,
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
        )  # fmt: skip

    def storage(self, principal: str):
        from f1_pipeline.core.storage.s3 import S3Storage

        return S3Storage(lambda: self.client(principal, "s3"), BUCKET)

    @contextmanager
    def acting_as(self, principal: str) -> Iterator[None]:
        """The environment the platform's own clients read credentials from."""
        key, saved = self.keys[principal], dict(os.environ)
        os.environ.update(
            AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"],
            AWS_ENDPOINT_URL=self.url, AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        )  # fmt: skip
        os.environ.pop("AWS_PROFILE", None)
        # boto3's default session caches the credentials it resolved first (another test's,
        # in a shared worker): clients made here must read this principal's.
        boto3.DEFAULT_SESSION = None
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)
            boto3.DEFAULT_SESSION = None


def _denied(call) -> None:
    with pytest.raises(ClientError) as denied:
        call()
    assert denied.value.response["Error"]["Code"] in ("AccessDenied", "403"), denied.value


@contextmanager
def _moto_server() -> Iterator[str]:
    """moto's server in a process of its own: IAM enforcement is a process-wide switch in
    moto, which must not reach the other tests' server (nor theirs reach this one's users)."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{url}/moto-api/", timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module")
def world():
    with _moto_server() as url:
        yield _enforced_world(url)


def _enforced_world(url: str) -> tuple[World, str]:
    setup = {"endpoint_url": url, "region_name": REGION, "aws_access_key_id": "setup",
             "aws_secret_access_key": "setup"}  # fmt: skip
    iam, sqs = boto3.client("iam", **setup), boto3.client("sqs", **setup)
    queue = sqs.create_queue(QueueName="f1-uploads")["QueueUrl"]
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:f1-uploads"
    role = iam.create_role(RoleName="f1-glue-job", AssumeRolePolicyDocument="{}")["Role"]
    refs = {"UploadsQueue.Arn": queue_arn, "GlueJobRole.Arn": role["Arn"]}
    documents = policy_documents(_load())
    policies = {
        "runner": _resolved(documents["DagsterRunnerPolicy"], refs),
        "deployer": _resolved(documents["DeployerPolicy"], refs),
        "provider": _resolved(documents["DataProviderPolicy"], refs),
        "job": _resolved(documents["GlueJobRole/f1-pipeline-glue-job"], refs),
        "bootstrap": _resolved(
            {"Statement": [{"Action": list(REQUIRED_ACTIONS), "Resource": BUCKET_ARN}]}, refs
        ),
        "stack": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        },
    }
    keys = {}
    for principal, policy in policies.items():
        iam.create_user(UserName=principal)
        iam.put_user_policy(
            UserName=principal, PolicyName=principal, PolicyDocument=json.dumps(policy)
        )
        keys[principal] = iam.create_access_key(UserName=principal)["AccessKey"]
    requests.post(f"{url}/moto-api/reset-auth", data=b"0", timeout=10).raise_for_status()
    return World(url, keys), queue


def test_each_principal_can_do_its_job_and_nothing_else(world, tmp_path, spark, project_wheel):
    world, queue = world
    # bootstrap, with exactly the documented actions, makes the bucket.
    assert bootstrap_bucket(world.client("bootstrap", "s3"), BUCKET, tls_only=False)
    _denied(lambda: world.client("bootstrap", "s3").put_object(Bucket=BUCKET, Key="x", Body=b""))
    # The stack (an administrator) wires the upload events to the queue.
    stack = world.client("stack", "s3")
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:f1-uploads"
    rule = {"Name": "prefix", "Value": "source-data/"}
    stack.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={
        "QueueConfigurations": [{"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
                                 "Filter": {"Key": {"FilterRules": [rule]}}}]})  # fmt: skip

    # The data provider uploads, and can do nothing else.
    provider = world.storage("provider")
    for table in layout.SOURCE_TABLES:
        upload_source(provider, SAMPLE_SOURCE / f"{table}.csv")
    _denied(lambda: provider.read_bytes(layout.source_csv("races")))
    _denied(lambda: provider.write_bytes("results/stats_2024.json", b"[]"))

    # The stack makes the Glue Data Catalog database; the runs register the tables in it.
    world.client("stack", "glue").create_database(DatabaseInput={"Name": DATABASE})

    # The runner: the upload sensor (pushed through the queue) and the run it requests.
    with world.acting_as("runner"), instance_for_test() as instance:
        from f1_pipeline.definitions import build_definitions
        from f1_pipeline.defs.sensors import source_data

        env = {
            **os.environ,
            "F1_DATA_ROOT": f"s3://{BUCKET}/",
            "F1_SOURCE_QUEUE_URL": queue,
            "F1_GLUE_DATABASE": DATABASE,
            "DAGSTER_HOME": str(tmp_path / "home"),
        }
        defs = build_definitions(env)
        resources = {
            **defs.resources,
            "upload_queue": defs.resources["upload_queue"].model_copy(update={"wait_seconds": 0}),
        }
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(source_data, "_pause", lambda seconds: None)
            data = tick(source_queue_sensor, instance, None, defs=defs, resources=resources)
        [request] = data.run_requests
        assert execute(defs, instance, data, request).success
        runner = world.storage("runner")
        assert json.loads(runner.read_bytes(layout.stats_json(2024)))[0]["Race Round"] == 1
        # The runner writes source-data/ only as a copy of an upload's own version (a
        # rollback): the grant's s3:x-amz-copy-source condition, which moto does not
        # evaluate, is checked on the document (infra/test_template.py).
        _denied(lambda: runner.write_bytes("scripts/x.py", b""))
        # The run registered the tables and the published seasons, with the runner's grants.
        catalog = world.client("runner", "glue")
        parts = catalog.get_partitions(DatabaseName=DATABASE, TableName="season_stats")
        assert sorted(int(p["Values"][0]) for p in parts["Partitions"]) == list(range(2018, 2025))
        _denied(lambda: catalog.delete_database(Name=DATABASE))
        _denied(lambda: catalog.delete_table(DatabaseName=DATABASE, Name="season_stats"))

    # The deployer ships the code and makes the job; it cannot touch the data.
    deployer = world.storage("deployer")
    done = deploy(world.client("deployer", "glue"), deployer, JOB, project_wheel,
                  role_arn=f"arn:aws:iam::{ACCOUNT}:role/f1-glue-job")  # fmt: skip
    assert done.action == "created"
    _denied(lambda: deployer.read_bytes(layout.stats_json(2024)))
    _denied(lambda: world.client("deployer", "glue").delete_job(JobName=JOB))

    # Glue mode: the runner drives the job through the stand-in (Glue's control plane, not
    # under test), and the job's steps run with the job role's credentials.
    with world.acting_as("runner"), instance_for_test() as instance:
        glue_runs = _glue_mode_ingest_and_stats(world, instance, tmp_path)
    assert [r.state for r in glue_runs] == ["SUCCEEDED", "SUCCEEDED"]
    assert world.storage("stack").list(layout.PIPES_PREFIX) == []  # the runner cleaned up

    # The job role reads inputs and writes outputs, never the inputs.
    job = world.storage("job")
    assert job.read_bytes(layout.source_csv("races")).startswith(b"raceId")
    job.write_bytes("results/probe.json", b"{}")
    job.delete("results/probe.json")
    _denied(lambda: job.write_bytes(layout.source_csv("races"), b"raceId\n"))
    assert re.match(r"s3://", job.uri("x"))


def _glue_mode_ingest_and_stats(world: World, instance, tmp_path) -> list:
    from f1_pipeline.definitions import build_definitions
    from f1_pipeline.defs.constants import STEP_RUNNER_KEY
    from f1_pipeline_tests.conftest import with_resources
    from f1_pipeline_tests.glue.standin import LocalGlue
    from f1_pipeline_tests.runs import publish

    key = world.keys["job"]
    job_env = {**os.environ, "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
               "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}  # fmt: skip
    standin = LocalGlue(
        world.client("stack", "glue"), world.client("stack", "s3"), job_env, tmp_path / "glue"
    )
    env = {"F1_DATA_ROOT": f"s3://{BUCKET}", "F1_SPARK_MODE": "glue", "F1_GLUE_JOB_NAME": JOB,
           "F1_GLUE_POLL_SECONDS": "0.5", "F1_GLUE_MAX_WAIT_MINUTES": "10",
           "DAGSTER_HOME": str(tmp_path / "glue-home")}  # fmt: skip
    defs = build_definitions(env)
    runner = defs.resources[STEP_RUNNER_KEY].model_copy(update={"glue_client": standin})
    defs = with_resources(defs, **{STEP_RUNNER_KEY: runner})
    try:
        # The sensors' own call in Glue mode: the deployed job's code versions.
        assert runner.code_versions() is not None
        publish(defs, instance, [2023, 2024])
    finally:
        standin.close()
    return list(standin.runs.values())
