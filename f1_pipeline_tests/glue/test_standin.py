"""The stand-in runs the job as Glue would: without Dagster (only dagster-pipes), and without
the test process's Spark Connect settings or token."""

from __future__ import annotations

import subprocess
import sys

from f1_pipeline_tests.glue.standin import _BOOT, NOT_ON_GLUE_ENV, NOT_ON_GLUE_MODULES


def _job(tmp_path, code: str) -> subprocess.CompletedProcess:
    script = tmp_path / "job.py"
    script.write_text(code)
    return subprocess.run(
        [sys.executable, "-c", _BOOT, str(script)], capture_output=True, text=True, timeout=60
    )


def test_the_job_cannot_import_dagster(tmp_path):
    assert set(NOT_ON_GLUE_MODULES) >= {"dagster", "dagster_aws", "dagster_pyspark"}
    refused = _job(tmp_path, "import dagster\n")
    assert refused.returncode != 0
    assert "ImportError" in refused.stderr or "ModuleNotFoundError" in refused.stderr
    assert _job(tmp_path, "import dagster_pipes\nprint('pipes')\n").stdout.strip() == "pipes"


def test_the_job_gets_no_spark_connect_settings_or_token():
    assert {
        "SPARK_CONNECT_MODE_ENABLED", "SPARK_REMOTE", "F1_SPARK_REMOTE",
        "SPARK_CONNECT_AUTHENTICATE_TOKEN",
    } <= NOT_ON_GLUE_ENV  # fmt: skip
