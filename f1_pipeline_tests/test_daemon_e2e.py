"""The real thing: `dagster dev` (webserver + daemon) watching a bucket on moto's S3
server. Uploading the sample is all it takes for the golden stats to appear."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from f1_pipeline.cli import main
from f1_pipeline.instance import prepare_home
from f1_pipeline_tests.conftest import REPO, SAMPLE_SOURCE

pytestmark = pytest.mark.e2e
DEADLINE_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """`dagster dev` ignores signals sent to it alone: stop its whole process group."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_upload_alone_publishes_the_golden_stats(
    bucket, s3_client, tmp_path, expected_dir, monkeypatch
):
    monkeypatch.setenv("F1_DATA_ROOT", f"s3://{bucket}")
    monkeypatch.setenv("DAGSTER_HOME", str(prepare_home(tmp_path / "dagster_home")))
    env = dict(os.environ)
    log_path = tmp_path / "dagster-dev.log"
    dagster = Path(sys.executable).with_name("dagster")
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(_free_port()),
             "-w", "workspace.yaml"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        assert (
            main(["upload", str(SAMPLE_SOURCE / "races.csv"), str(SAMPLE_SOURCE / "results.csv")])
            == 0
        )
        deadline = time.monotonic() + DEADLINE_SECONDS
        keys: list[str] = []
        while time.monotonic() < deadline and proc.poll() is None:
            listed = s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])
            keys = [o["Key"] for o in listed]
            if "results/_manifest.json" in keys:
                break
            time.sleep(2)
        tail = log_path.read_text()[-4000:]
        assert "results/_manifest.json" in keys, f"no stats within the deadline:\n{tail}"
        for season in range(2018, 2025):
            body = s3_client.get_object(Bucket=bucket, Key=f"results/stats_{season}.json")["Body"]
            want = json.loads((expected_dir / f"stats_{season}.json").read_text())
            assert json.loads(body.read()) == want, season
    finally:
        _stop(proc)
