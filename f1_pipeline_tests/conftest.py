"""Shared fixtures: one Spark session for the whole suite, sample data, a data root."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# No telemetry from the tests; must be set before dagster reads it.
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

REPO = Path(__file__).resolve().parents[1]
# One class archive for every JVM the suite starts (runs, daemons, warm engines), as on a
# user's machine: recorded once by the first run that finds none, then mapped by the rest.
os.environ.setdefault("F1_SPARK_CLASSES", str(REPO / ".spark-classes"))
SAMPLE_SOURCE = REPO / "data" / "source-data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


# The golden outputs for the sample, kept byte-identical to the team's shared copy
# (../shared/data/expected; test_fixtures.py checks it when that folder is beside the clone).
EXPECTED = FIXTURES / "expected"


@pytest.fixture(scope="session")
def expected_dir() -> Path:
    return EXPECTED


@pytest.fixture(scope="session")
def spark():
    """The suite's Spark session, configured exactly as a run's own (a classic in-process
    session: the pipeline's runs in this process get this one back from pyspark)."""
    from f1_pipeline.core.spark import local_session, spark_config

    session = local_session(spark_config("local[2]"))
    yield session
    session.stop()


def local_env(data_root: Path | str, **variables: str) -> dict[str, str]:
    """The variables of a local-mode deployment over ``data_root``, with a Dagster home
    beside it (never a warm engine some `make ui` runs)."""
    home = Path(data_root).parent / "dagster_home"
    return {"F1_DATA_ROOT": str(data_root), "DAGSTER_HOME": str(home), **variables}


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A fresh storage root holding a copy of the sample source data."""
    root = tmp_path / "data"
    shutil.copytree(SAMPLE_SOURCE, root / "source-data")
    return root


@pytest.fixture
def pipeline_env(monkeypatch: pytest.MonkeyPatch, data_root: Path, tmp_path: Path) -> Path:
    """Point the pipeline's environment at ``data_root`` and a private DAGSTER_HOME."""
    monkeypatch.setenv("F1_DATA_ROOT", str(data_root))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    return data_root


def write_csv(path: Path, text: str, newline: str = "\n") -> Path:
    """Write CSV text (lines separated by \\n in ``text``) with the given line ending."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


@pytest.fixture(scope="session")
def s3_endpoint():
    """moto's S3-compatible server on a free loopback port, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, s3_endpoint: str) -> str:
    """Fake credentials and the loopback endpoint: nothing can reach real AWS."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    return s3_endpoint


@pytest.fixture
def bucket(aws_env: str, request: pytest.FixtureRequest) -> str:
    """A fresh bucket, bootstrapped as `f1-pipeline bootstrap` does for a plain-HTTP
    endpoint: without the TLS-only policy, which would deny every request made over
    HTTP (moto, moreover, treats that Deny as unconditional)."""
    import re
    import uuid

    from f1_pipeline.cli.bootstrap import bootstrap_bucket
    from f1_pipeline.core.aws import aws_client

    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:30].strip("-")
    name = f"f1-{slug}-{uuid.uuid4().hex[:8]}"
    bootstrap_bucket(aws_client("s3"), name, tls_only=False)
    return name


def storage_at(root: str):
    """The storage the platform opens for ``F1_DATA_ROOT=root`` in this environment (the
    test S3 endpoint and region of ``aws_env``), without Dagster."""
    from f1_pipeline.core.storage import open_storage, parse_data_root

    return open_storage(parse_data_root(root))


@pytest.fixture
def s3_client(aws_env: str):
    import boto3

    return boto3.client("s3", endpoint_url=aws_env, region_name="eu-west-1")


def with_resources(defs, **overrides):
    """``defs`` with some resources replaced, as a deployment would configure them."""
    from dagster import Definitions

    return Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        sensors=defs.sensors,
        schedules=defs.schedules,
        resources={**(defs.resources or {}), **overrides},
    )


@pytest.fixture(scope="session")
def published_sample(tmp_path_factory, spark) -> Path:
    """A local root holding the sample and what the steps published from it (made once,
    without Dagster; copy it with :func:`copy_root` before changing anything)."""
    import logging

    from f1_pipeline.core.steps import StepContext, run_step
    from f1_pipeline.core.steps.io import LocalStagedIO
    from f1_pipeline.core.storage import LocalStorage

    root = tmp_path_factory.mktemp("published") / "data"
    shutil.copytree(SAMPLE_SOURCE, root / "source-data")
    storage = LocalStorage(root)
    log = logging.getLogger("f1_pipeline_tests.published_sample")
    ctx = StepContext(storage, spark, LocalStagedIO(storage), log, "run-sample", lambda _: None)
    run_step("ingest", ctx, {})
    run_step("season_stats", ctx, {"seasons": [str(s) for s in range(2018, 2025)]})
    return root


def copy_root(root: Path, to: Path) -> Path:
    shutil.copytree(root, to)
    return to
