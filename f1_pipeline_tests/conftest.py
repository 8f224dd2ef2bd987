"""Shared fixtures: one Spark session for the whole suite, sample data, a data root."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# No telemetry from the tests; must be set before dagster reads it.
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")

REPO = Path(__file__).resolve().parents[1]
SAMPLE_SOURCE = REPO / "data" / "source-data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_dir() -> Path:
    """The team's shared folder (sample data and golden outputs) beside the checkout."""
    for candidate in (REPO.parent / "shared", REPO.parent.parent / "shared"):
        if (candidate / "data" / "expected").is_dir():
            return candidate
    raise FileNotFoundError("../shared/data/expected not found beside the checkout")


@pytest.fixture(scope="session")
def expected_dir() -> Path:
    return _shared_dir() / "data" / "expected"


@pytest.fixture(scope="session")
def spark():
    """The suite's single Spark session, configured exactly as the pipeline's resource.

    The resource's getOrCreate() returns this session, so assets reuse it.
    """
    from pyspark.sql import SparkSession

    from f1_pipeline.resources import spark_config
    from f1_pipeline.settings import Settings

    builder = SparkSession.builder
    for key, value in spark_config(Settings(data_root=REPO / "data")).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    yield session
    session.stop()


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
