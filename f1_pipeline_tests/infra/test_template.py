"""infra/template.yaml: lints clean, and every IAM policy in it is least-privilege."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from f1_pipeline_tests.conftest import REPO

TEMPLATE = REPO / "infra" / "template.yaml"
SUBSTITUTIONS = {
    "${AWS::Partition}": "aws",
    "${AWS::Region}": "eu-west-1",
    "${AWS::AccountId}": "123456789012",
    "${BucketName}": "f1-bucket",
    "${GlueJobName}": "f1-job",
    "${DataPrefix}": "",
    "${GlueDatabaseName}": "f1_db",
}
GLUE_CATALOG = {
    "arn:aws:glue:eu-west-1:123456789012:catalog",
    "arn:aws:glue:eu-west-1:123456789012:database/f1_db",
    "arn:aws:glue:eu-west-1:123456789012:table/f1_db/*",
}
BUCKET = "arn:aws:s3:::f1-bucket"
ALLOWED_RESOURCES = {
    BUCKET,
    *(
        f"{BUCKET}/{prefix}/*"
        for prefix in (
            "source-data",
            "cleaned",
            "results",
            "scripts",
            "pipes",
            "cleaned/_staging",
            "sparkui",
            "athena-results",
            # The catalog tables' folders (analysts read only these).
            "results/season_stats",
            "cleaned/races",
            "cleaned/results",
        )
    ),
    *GLUE_CATALOG,
    "arn:aws:athena:eu-west-1:123456789012:workgroup/f1_db",
    "arn:aws:glue:eu-west-1:123456789012:job/f1-job",
    "arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/jobs/*",
    "arn:aws:logs:eu-west-1:123456789012:log-group:/aws-glue/f1-pipeline/f1-job:*",
    "GetAtt:UploadsQueue.Arn",
    "GetAtt:GlueJobRole.Arn",
}


def _load() -> dict:
    return yaml.safe_load(TEMPLATE.read_text())


def _resolve(value, substitutions: dict[str, str] = SUBSTITUTIONS) -> str:
    if isinstance(value, str):
        return value
    if "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for placeholder, replacement in substitutions.items():
            text = text.replace(placeholder, replacement)
        assert "${" not in text, f"unresolved substitution in {text}"
        return text
    if "Fn::GetAtt" in value:
        return "GetAtt:" + ".".join(value["Fn::GetAtt"])
    raise AssertionError(f"unexpected resource form {value}")


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def policy_documents(template: dict) -> dict[str, dict]:
    docs = {}
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                docs[f"{name}/{policy['PolicyName']}"] = policy["PolicyDocument"]
        elif "PolicyDocument" in props:
            docs[name] = props["PolicyDocument"]
    return docs


def violations(documents: dict[str, dict]) -> list[str]:
    """Wildcard actions, and resources outside the bucket's prefixes, the job and its logs.
    A Deny cannot grant anything, so only the TLS-only Deny may use s3:*."""
    found = []
    for name, doc in documents.items():
        for statement in doc["Statement"]:
            sid = f"{name}:{statement.get('Sid', '?')}"
            actions = _as_list(statement["Action"])
            if statement["Effect"] == "Deny":
                insecure = statement.get("Condition", {}).get("Bool", {})
                if insecure != {"aws:SecureTransport": "false"}:
                    found.append(f"{sid}: unexpected Deny")
                continue
            found += [f"{sid}: wildcard action {a}" for a in actions if "*" in a]
            if "Principal" in statement:  # resource policies: the resource is the owner
                continue
            for resource in map(_resolve, _as_list(statement["Resource"])):
                if resource not in ALLOWED_RESOURCES:
                    found.append(f"{sid}: resource {resource}")
    return found


def _grants(doc: dict, action: str) -> set[str]:
    return {
        _resolve(r)
        for s in doc["Statement"]
        if s["Effect"] == "Allow" and action in _as_list(s["Action"])
        for r in _as_list(s["Resource"])
    }


def test_cfn_lint_passes():
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    proc = subprocess.run(
        [str(cfn_lint), str(TEMPLATE)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_policy_has_wildcard_actions_or_foreign_resources():
    documents = policy_documents(_load())
    assert set(documents) == {
        "DataBucketPolicy",
        "UploadsQueuePolicy",
        "GlueJobRole/f1-pipeline-glue-job",
        "DagsterRunnerPolicy",
        "DeployerPolicy",
        "DataProviderPolicy",
        "AnalystPolicy",
    }
    assert violations(documents) == []


@pytest.mark.parametrize(
    ("action", "resource", "expected"),
    [
        ("s3:*", None, "wildcard action s3:*"),
        ("s3:GetObject", {"Fn::Sub": "arn:${AWS::Partition}:s3:::${BucketName}/*"}, "resource"),
        ("s3:GetObject", "*", "resource *"),
        ("glue:StartJobRun", {"Fn::Sub": "arn:${AWS::Partition}:glue:*:*:job/*"}, "resource"),
    ],
)
def test_the_checker_catches_broad_grants(action, resource, expected):
    documents = policy_documents(_load())
    broken = copy.deepcopy(documents["DagsterRunnerPolicy"])
    statement = broken["Statement"][1]
    statement["Action"] = action
    if resource is not None:
        statement["Resource"] = resource
    found = violations({"DagsterRunnerPolicy": broken})
    assert any(expected in v for v in found), found


def test_least_privilege_per_principal():
    documents = policy_documents(_load())
    glue = documents["GlueJobRole/f1-pipeline-glue-job"]
    runner = documents["DagsterRunnerPolicy"]
    deployer = documents["DeployerPolicy"]
    provider = documents["DataProviderPolicy"]
    outputs = {f"{BUCKET}/{p}/*" for p in ("cleaned", "results", "pipes")}
    assert _grants(glue, "s3:PutObject") == outputs | {f"{BUCKET}/sparkui/*"}
    assert f"{BUCKET}/scripts/*" in _grants(glue, "s3:GetObject")
    assert _grants(runner, "s3:PutObject") == outputs | {f"{BUCKET}/source-data/*"}
    # ... the uploads only as copies of their own versions (a rollback), never new bytes.
    rollback = _statement(runner, "RollBackUploads")
    sources = rollback["Condition"]["StringLike"]["s3:x-amz-copy-source"]
    name = BUCKET.removeprefix("arn:aws:s3:::")
    assert [_resolve(s) for s in sources] == [f"{name}/source-data/*", f"/{name}/source-data/*"]
    assert _grants(deployer, "s3:PutObject") == {f"{BUCKET}/scripts/*"}
    assert _grants(provider, "s3:PutObject") == {f"{BUCKET}/source-data/*"}
    # Versions are read only where a step pins them: the upload and the cleaned tables.
    pinned = {f"{BUCKET}/source-data/*", f"{BUCKET}/cleaned/*"}
    assert _grants(glue, "s3:GetObjectVersion") == _grants(runner, "s3:GetObjectVersion") == pinned
    # Deletes: scratch space (Glue steps' staging; Pipes context and messages) and a
    # withdrawn season's files; never an input or the cleaned layer.
    withdrawn = f"{BUCKET}/results/*"
    assert _grants(glue, "s3:DeleteObject") == {f"{BUCKET}/cleaned/_staging/*", withdrawn}
    assert _grants(glue, "s3:AbortMultipartUpload") == {f"{BUCKET}/cleaned/_staging/*"}
    assert _grants(runner, "s3:DeleteObject") == {f"{BUCKET}/pipes/*", withdrawn}
    assert _grants(deployer, "s3:DeleteObject") == set()
    assert not any(re.search(r"source-data", r) for r in _grants(glue, "s3:PutObject"))
    # What the queue sensor calls, and the Glue client's run lookups.
    assert _as_list(_statement(runner, "ReadUploadNotifications")["Action"]) == [
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
    ]
    assert "glue:GetJobRuns" in _statement(runner, "DriveTheGlueJob")["Action"]
    assert "glue:GetJob" in _statement(runner, "DriveTheGlueJob")["Action"]  # code versions


def _statement(doc: dict, sid: str) -> dict:
    [statement] = [s for s in doc["Statement"] if s.get("Sid") == sid]
    return statement


def test_bucket_matches_bootstrap():
    bucket = _load()["Resources"]["DataBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    rule = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    [notification] = bucket["NotificationConfiguration"]["QueueConfigurations"]
    [rule] = notification["Filter"]["S3Key"]["Rules"]
    assert (rule["Name"], _resolve(rule["Value"])) == ("prefix", "source-data/")


def test_the_stack_sets_nothing_glue_deploy_sets():
    """One owner per setting: deploy makes the job (script, wheel, arguments, sizing); the
    stack makes what it runs with, and names the log group deploy points the job at."""
    from f1_pipeline.glue.deploy import job_log_group

    template = _load()
    assert not [r for r in template["Resources"].values() if r["Type"] == "AWS::Glue::Job"]
    assert not {"WheelName", "DagsterPipesVersion"} & set(template["Parameters"])
    group = template["Resources"]["JobLogGroup"]["Properties"]
    assert _resolve(group["LogGroupName"]) == job_log_group("f1-job")
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    runner = template["Resources"]["DagsterRunnerPolicy"]["Properties"]
    assert runner["Roles"]["Fn::If"][0] == "HasRunnerRole"  # attached when a role is named


def test_a_data_prefix_reaches_every_grant_rule_and_notification():
    template = _load()
    prefixed = {**SUBSTITUTIONS, "${DataPrefix}": "team-a/"}
    for name, doc in policy_documents(template).items():
        for statement in doc["Statement"]:
            if "Principal" in statement:
                continue
            for resource in _as_list(statement["Resource"]):
                arn = _resolve(resource, prefixed)
                if arn.startswith(f"{BUCKET}/"):
                    assert arn.startswith(f"{BUCKET}/team-a/"), (name, arn)
    bucket = template["Resources"]["DataBucket"]["Properties"]
    for rule in bucket["LifecycleConfiguration"]["Rules"]:
        if "Prefix" in rule:
            assert _resolve(rule["Prefix"], prefixed).startswith("team-a/"), rule["Id"]
    [notification] = bucket["NotificationConfiguration"]["QueueConfigurations"]
    [rule] = notification["Filter"]["S3Key"]["Rules"]
    assert _resolve(rule["Value"], prefixed) == "team-a/source-data/"


def test_scratch_space_expires():
    bucket = _load()["Resources"]["DataBucket"]["Properties"]
    rules = {
        _resolve(r["Prefix"]): r for r in bucket["LifecycleConfiguration"]["Rules"] if "Prefix" in r
    }
    from f1_pipeline.core.storage import layout

    for prefix in layout.SCRATCH_PREFIXES:  # the same prefixes bootstrap expires
        assert rules[prefix]["ExpirationInDays"] == 1
        assert rules[prefix]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}


RUNNER_CATALOG_ACTIONS = {
    "glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable",
    "glue:GetPartitions", "glue:BatchCreatePartition", "glue:BatchDeletePartition",
}  # fmt: skip


def test_the_runner_registers_tables_and_partitions_and_nothing_more():
    """Exactly the calls of core/glue_catalog.py's ensure_tables and sync_partitions, on the
    stack's database and its tables; never the database itself, nor another one's."""
    runner = policy_documents(_load())["DagsterRunnerPolicy"]
    statement = _statement(runner, "RegisterPublishedTables")
    assert set(statement["Action"]) == RUNNER_CATALOG_ACTIONS
    assert {_resolve(r) for r in statement["Resource"]} == GLUE_CATALOG
    granted = {a for st in runner["Statement"] for a in _as_list(st["Action"])}
    assert not {"glue:CreateDatabase", "glue:DeleteDatabase", "glue:DeleteTable"} & granted
    # Every Glue Data Catalog call the platform makes is among them.
    import ast

    from f1_pipeline.core import glue_catalog

    tree = ast.parse(Path(glue_catalog.__file__).read_text())
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name) and node.func.value.id == "glue"
    }  # fmt: skip
    calls.discard("get_paginator")
    calls.add("get_partitions")  # the paginator's operation
    calls.discard("create_database")  # the stack makes it (ensure_tables' local fallback)
    wanted = {"glue:" + "".join(part.title() for part in c.split("_")) for c in calls}
    assert wanted == RUNNER_CATALOG_ACTIONS


def test_the_catalog_database_and_the_athena_workgroup():
    template = _load()
    resources, outputs = template["Resources"], template["Outputs"]
    database = resources["GlueDatabase"]["Properties"]["DatabaseInput"]
    assert database["Name"] == {"Ref": "GlueDatabaseName"}
    assert outputs["GlueDatabaseName"]["Value"] == {"Ref": "GlueDatabase"}
    config = resources["AthenaWorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True  # clients cannot override these
    assert config["BytesScannedCutoffPerQuery"] == {"Ref": "AthenaBytesScannedCutoff"}
    assert template["Parameters"]["AthenaBytesScannedCutoff"]["Default"] == 1024**3
    result = config["ResultConfiguration"]
    assert _resolve(result["OutputLocation"]) == "s3://f1-bucket/athena-results/"
    assert result["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    rules = {
        _resolve(r["Prefix"]): r
        for r in resources["DataBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
        if "Prefix" in r
    }
    assert rules["athena-results/"]["ExpirationInDays"] == {"Ref": "AthenaResultRetentionDays"}


def test_analysts_read_the_tables_and_write_only_query_results():
    from f1_pipeline.core.storage import layout

    analyst = policy_documents(_load())["AnalystPolicy"]
    tables = {f"{BUCKET}/{layout.SEASON_TABLE_PREFIX}*"} | {
        f"{BUCKET}/{layout.cleaned_table_prefix(t)}*" for t in layout.SOURCE_TABLES
    }
    results = f"{BUCKET}/athena-results/*"
    assert _grants(analyst, "s3:GetObject") == tables | {results}
    assert _grants(analyst, "s3:PutObject") == {results}
    assert _grants(analyst, "glue:GetPartitions") == GLUE_CATALOG
    assert _grants(analyst, "athena:StartQueryExecution") == {
        "arn:aws:athena:eu-west-1:123456789012:workgroup/f1_db"
    }
    granted = {a for st in analyst["Statement"] for a in _as_list(st["Action"])}
    assert not any(a.startswith("glue:") and not a.startswith("glue:Get") for a in granted)
