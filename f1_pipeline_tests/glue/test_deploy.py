"""`f1-pipeline glue deploy`: script and wheel to scripts/, job created or updated, idempotent."""

from __future__ import annotations

import json
import zipfile
from importlib.metadata import version

import boto3
import pytest
from botocore.stub import Stubber

from f1_pipeline.cli import main
from f1_pipeline.core.code_version import code_versions, wheel_code_versions
from f1_pipeline.core.storage import layout
from f1_pipeline.glue.deploy import (
    CODE_VERSIONS_ARG,
    DeployError,
    deploy,
    entry_script,
    job_arguments,
)
from f1_pipeline_tests.conftest import REPO
from f1_pipeline_tests.glue.conftest import ROLE_ARN


def test_deploy_creates_the_job_then_changes_nothing(glue_api, s3_storage, project_wheel):
    first = deploy(glue_api, s3_storage, "f1-stats", project_wheel, role_arn=ROLE_ARN)
    assert first.action == "created"
    script, wheel = (s3_storage.uri(layout.glue_entry_script()),
                     s3_storage.uri(layout.glue_wheel(project_wheel.name)))  # fmt: skip
    assert first.uploaded == [script, wheel]
    assert s3_storage.read_bytes(layout.glue_entry_script()) == entry_script()
    assert (
        s3_storage.read_bytes(layout.glue_wheel(project_wheel.name)) == project_wheel.read_bytes()
    )
    job = glue_api.get_job(JobName="f1-stats")["Job"]
    assert job["Command"]["ScriptLocation"] == script
    assert job["Command"]["Name"] == "glueetl"
    assert job["GlueVersion"] == "5.0"
    assert job["Role"] == ROLE_ARN
    args = job["DefaultArguments"]
    assert (
        args["--additional-python-modules"] == f"{wheel},dagster-pipes=={version('dagster-pipes')}"
    )
    assert args["--python-modules-installer-option"] == "--no-deps"
    # Observability is deploy's too: metrics, the Spark UI's event logs, continuous logs in
    # the log group the stack makes for this job name.
    assert args["--enable-spark-ui"] == args["--enable-metrics"] == "true"
    assert args["--spark-event-logs-path"] == s3_storage.uri("sparkui/")
    assert args["--continuous-log-logGroup"] == "/aws-glue/f1-pipeline/f1-stats"
    assert job["ExecutionProperty"] == {"MaxConcurrentRuns": 3}

    again = deploy(glue_api, s3_storage, "f1-stats", project_wheel)
    assert (again.action, again.uploaded, again.unchanged) == ("unchanged", [], [script, wheel])
    assert glue_api.get_job(JobName="f1-stats")["Job"] == job


def test_a_missing_job_needs_a_role(glue_api, s3_storage, project_wheel):
    with pytest.raises(DeployError, match="does not exist; pass --role-arn to create it"):
        deploy(glue_api, s3_storage, "nope", project_wheel)
    assert s3_storage.list(layout.SCRIPTS_PREFIX) == []  # nothing uploaded either


def test_a_changed_wheel_updates_the_job_keeping_its_other_settings(
    s3_storage, project_wheel, tmp_path
):
    """moto has no UpdateJob: botocore's Stubber checks our request against the Glue API
    model instead (unknown or missing parameters fail)."""
    glue = boto3.client("glue", region_name="eu-west-1")
    old_args = {
        "--additional-python-modules": "s3://b/scripts/f1_pipeline-0.0.9-py3-none-any.whl",
        "--enable-continuous-cloudwatch-log": "true",
    }
    existing = {
        "Name": "f1-stats", "Role": ROLE_ARN, "GlueVersion": "5.0", "WorkerType": "G.1X",
        "NumberOfWorkers": 4, "Timeout": 45, "MaxCapacity": 4.0, "MaxRetries": 0,
        "ExecutionProperty": {"MaxConcurrentRuns": 2},
        "Command": {"Name": "glueetl", "PythonVersion": "3",
                    "ScriptLocation": s3_storage.uri(layout.glue_entry_script())},
        "DefaultArguments": old_args,
    }  # fmt: skip
    new_wheel = tmp_path / "f1_pipeline-0.2.0-py3-none-any.whl"
    new_wheel.write_bytes(project_wheel.read_bytes())
    code = wheel_code_versions(new_wheel)
    expected_args = {**old_args, **job_arguments(s3_storage, new_wheel.name, "f1-stats", code)}
    # The versions of the code the wheel holds ride on the job (the sensors compare them).
    assert json.loads(expected_args[CODE_VERSIONS_ARG]) == code_versions()
    assert expected_args["--additional-python-modules"] == (
        f"{s3_storage.uri(layout.glue_wheel(new_wheel.name))},"
        f"dagster-pipes=={version('dagster-pipes')}"
    )
    update = {k: v for k, v in existing.items() if k not in ("Name", "MaxCapacity")}
    update["DefaultArguments"] = expected_args
    with Stubber(glue) as stub:
        stub.add_response("get_job", {"Job": existing}, {"JobName": "f1-stats"})
        stub.add_response("update_job", {"JobName": "f1-stats"},
                          {"JobName": "f1-stats", "JobUpdate": update})  # fmt: skip
        stub.add_response("get_job", {"Job": {**existing, "DefaultArguments": expected_args}})
        done = deploy(glue, s3_storage, "f1-stats", new_wheel)
        stub.assert_no_pending_responses()
    assert done.action == "updated"
    assert done.job["NumberOfWorkers"] == 4  # kept


def test_the_wheel_holds_the_whole_package(project_wheel):
    names = zipfile.ZipFile(project_wheel).namelist()
    modules = ("glue/entry.py", "glue/glue_entry.py", "core/steps/ingest.py",
               "core/steps/stats.py", "core/steps/io.py", "core/transforms/cleaning.py",
               "core/storage/s3.py", "core/contract.py", "core/lineage.py",
               "defs/instance/dagster.yaml")  # fmt: skip

    for module in modules:
        assert f"f1_pipeline/{module}" in names
    assert not any(n.startswith("f1_pipeline_tests/") for n in names)
    # Built from a clean copy: exactly today's modules, nothing stale from an earlier build.
    package = REPO / "f1_pipeline"
    sources = {f"f1_pipeline/{p.relative_to(package).as_posix()}" for p in package.rglob("*.py")}
    assert {n for n in names if n.endswith(".py")} == sources


def test_cli_glue_deploy_prints_the_job(glue_api, bucket, project_wheel, monkeypatch, capsys):
    monkeypatch.setenv("F1_DATA_ROOT", f"s3://{bucket}")
    argv = ["glue", "deploy", "--job-name", "f1-cli", "--wheel", str(project_wheel)]
    assert main([*argv, "--role-arn", ROLE_ARN]) == 0  # a missing job is created
    out = capsys.readouterr().out
    assert "Glue job f1-cli: created" in out
    assert f"script          s3://{bucket}/scripts/glue_entry.py" in out
    assert "workers         2 x G.1X" in out
    monkeypatch.setenv("F1_GLUE_JOB_NAME", "f1-cli")  # the name may come from the environment
    assert main(["glue", "deploy", "--wheel", str(project_wheel)]) == 0
    assert "Glue job f1-cli: unchanged" in capsys.readouterr().out


def test_cli_glue_deploy_needs_an_s3_root(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("F1_DATA_ROOT", str(tmp_path))
    assert main(["glue", "deploy", "--job-name", "x"]) == 2
    assert "needs F1_DATA_ROOT=s3://" in capsys.readouterr().err
