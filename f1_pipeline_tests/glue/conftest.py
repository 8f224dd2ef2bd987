"""Glue mode against the local stand-in: moto keeps the job definition, the stand-in runs
the deployed entry script in a subprocess on local Spark, against the test S3 server.

Dagster is imported inside the fixtures that need it: the entry script's own tests run in the
Spark 3.5 lane, which has no Dagster (as the Glue job has none)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from pathlib import Path

import boto3
import pytest

from f1_pipeline.core.storage import layout
from f1_pipeline.core.storage.s3 import S3Storage
from f1_pipeline.glue.deploy import built_wheel, deploy
from f1_pipeline_tests.conftest import SAMPLE_SOURCE, with_resources
from f1_pipeline_tests.glue.standin import LocalGlue

ROLE_ARN = "arn:aws:iam::123456789012:role/f1-pipeline-glue"


@pytest.fixture(scope="session")
def project_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel `glue deploy` ships, built once for the session."""
    with built_wheel() as wheel:
        kept = tmp_path_factory.mktemp("wheel") / wheel.name
        shutil.copyfile(wheel, kept)
    return kept


@pytest.fixture
def glue_api(aws_env: str):
    return boto3.client("glue", endpoint_url=aws_env, region_name="eu-west-1")


@pytest.fixture
def s3_storage(bucket: str, s3_client) -> S3Storage:
    return S3Storage(lambda: s3_client, bucket)


@pytest.fixture
def glue_job(glue_api, s3_storage: S3Storage, project_wheel: Path) -> str:
    """A job deployed as `f1-pipeline glue deploy --role-arn ...` creates it."""
    name = f"f1-stats-{uuid.uuid4().hex[:8]}"
    deploy(glue_api, s3_storage, name, project_wheel, role_arn=ROLE_ARN)
    return name


@pytest.fixture
def seconds_per_minute() -> float:
    """How long a minute of the job's Timeout lasts in the stand-in (override to reach it)."""
    return 60.0


@pytest.fixture
def local_glue(glue_api, s3_client, aws_env, tmp_path: Path, seconds_per_minute: float):
    standin = LocalGlue(
        glue_api,
        s3_client,
        dict(os.environ),
        tmp_path / "glue-runs",
        seconds_per_minute,
        # The Spark 3.5 lane runs the job on Glue 5's Spark: `make test-spark35`.
        python=os.environ.get("F1_TEST_GLUE_PYTHON") or sys.executable,
    )
    yield standin
    standin.close()


@pytest.fixture
def glue_env(bucket: str, aws_env: str, glue_job: str) -> dict[str, str]:
    """A Glue-mode deployment's variables (the endpoint and region: botocore's, aws_env)."""
    return {"F1_DATA_ROOT": f"s3://{bucket}", "F1_SPARK_MODE": "glue",
            "F1_GLUE_JOB_NAME": glue_job, "F1_GLUE_POLL_SECONDS": "0.5",
            "F1_GLUE_MAX_WAIT_MINUTES": "10"}  # fmt: skip


@pytest.fixture
def glue_defs(glue_env: dict[str, str], local_glue: LocalGlue, s3_storage: S3Storage):
    """Glue-mode definitions over a bucket holding the sample sources."""
    from f1_pipeline.definitions import build_definitions
    from f1_pipeline.defs.constants import STEP_RUNNER_KEY

    for table in layout.SOURCE_TABLES:
        s3_storage.write_bytes(
            layout.source_csv(table), (SAMPLE_SOURCE / f"{table}.csv").read_bytes()
        )
    defs = build_definitions(glue_env)
    # The Dagster way to swap a resource: a Glue step runner whose client is the stand-in.
    runner = defs.resources[STEP_RUNNER_KEY].model_copy(update={"glue_client": local_glue})
    return with_resources(defs, **{STEP_RUNNER_KEY: runner})


@pytest.fixture
def instance():
    from dagster import instance_for_test

    with instance_for_test() as inst:
        yield inst
