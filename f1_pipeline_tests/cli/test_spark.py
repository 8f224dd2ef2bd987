"""The warm engine: `f1-pipeline spark start|status|stop` runs a real Spark Connect server on
loopback (started by pyspark's own sbin script) that only its owner's token opens;
`f1-pipeline run` finds it through the Dagster home and publishes the golden stats over it;
its JVM records the class archive as it stops; a stale pid is never signalled."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from f1_pipeline.cli import main
from f1_pipeline.cli import spark as warm_engine
from f1_pipeline.core.spark import TOKEN_ENV, Engine, WarmEngine
from f1_pipeline_tests.conftest import EXPECTED, SAMPLE_SOURCE

pytestmark = pytest.mark.full  # the full tier: see docs/testing.md


def _golden(root) -> bool:
    return all(
        (root / "results" / p.name).read_bytes() == p.read_bytes() for p in EXPECTED.glob("*.json")
    )


def _cmdlines() -> list[bytes]:
    lines = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            lines.append(Path(f"/proc/{pid}/cmdline").read_bytes())
        except OSError:
            continue
    return lines


NO_TOKEN = """
import sys
from pyspark.sql import SparkSession
from pyspark.sql.connect.client.retries import DefaultPolicy
try:
    session = SparkSession.builder.remote(sys.argv[1]).create()
    session.client.set_retry_policies([DefaultPolicy(max_retries=1)])
    session.range(1).collect()
    print("ACCEPTED")
except Exception as err:
    print(type(err).__name__, str(err)[:300])
"""


def test_start_status_run_stop(tmp_path, monkeypatch, capsys):
    home, classes = tmp_path / "home", tmp_path / "classes"
    root = tmp_path / "data"
    root.mkdir()
    (root / "source-data").symlink_to(SAMPLE_SOURCE)
    for name, value in {"F1_DATA_ROOT": str(root), "DAGSTER_HOME": str(home),
                        "F1_SPARK_CLASSES": str(classes), "F1_SPARK_MASTER": "local[2]",
                        "F1_DAGSTER_URL": "http://127.0.0.1:9"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("F1_SPARK_REMOTE", raising=False)
    engine = Engine(home, "local[2]", classes)
    try:
        assert main(["spark", "start"]) == 0
        out = capsys.readouterr().out
        assert "Spark Connect server running at sc://localhost:" in out
        warm = engine.warm()
        assert warm is not None
        assert warm.token not in out
        # The token is the owner's alone: a 0600 state file, never on a command line.
        assert stat.S_IMODE(engine.state.stat().st_mode) == 0o600
        assert not any(warm.token.encode() in line for line in _cmdlines())
        assert main(["spark", "start"]) == 0  # idempotent: the same server
        assert engine.warm() == warm
        assert main(["spark", "status"]) == 0
        capsys.readouterr()

        # A client without the token is refused.
        refused = subprocess.run(
            [sys.executable, "-c", NO_TOKEN, warm.url],
            capture_output=True, text=True, timeout=120,
            env={k: v for k, v in os.environ.items() if k != TOKEN_ENV},
        )  # fmt: skip
        assert refused.returncode == 0, refused.stderr[-2000:]
        assert "UNAUTHENTICATED" in refused.stdout

        # Runs in processes of their own (as under the daemon) find it and use it.
        script = Path(sys.executable).with_name("f1-pipeline")
        done = subprocess.run([str(script), "run", "-v"], capture_output=True, text=True,
                              timeout=600)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert f"Spark: the Connect server at {warm.url}" in done.stderr
        assert _golden(root)
    finally:
        assert main(["spark", "stop"]) == 0
    assert "stopped the Spark Connect server" in capsys.readouterr().out
    assert engine.warm() is None
    assert main(["spark", "status"]) == 1
    assert "no Spark Connect server running" in capsys.readouterr().out
    # Its JVM recorded the class archive as it stopped: later JVMs map it.
    assert engine.archive.path.is_file()
    assert (
        engine.server_config()["spark.driver.extraJavaOptions"].count(
            f"-XX:SharedArchiveFile={engine.archive.path}"
        )
        == 1
    )


def test_stop_never_signals_a_process_that_reused_the_pid(tmp_path):
    """The state file names a pid that now belongs to another process: left alone."""
    other = subprocess.Popen(["sleep", "60"])
    engine = Engine(tmp_path)
    try:
        engine.record(WarmEngine(pid=other.pid, started=1, port=1, token="t", log=""))
        assert warm_engine.stop(engine) is None
        assert other.poll() is None  # still running
        assert not engine.state.exists()
    finally:
        other.kill()
        other.wait()
