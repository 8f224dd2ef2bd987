"""The warm engine: `f1-pipeline spark start|status|stop` runs a real Spark Connect server on
loopback that only its owner's token opens; `f1-pipeline run` finds it through the Dagster
home and publishes the golden stats over it; with the server gone, runs use a private one."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from f1_pipeline.cli import main
from f1_pipeline.core import engine
from f1_pipeline_tests.conftest import EXPECTED, SAMPLE_SOURCE

pytestmark = pytest.mark.full  # the full tier: see docs/testing.md


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A Dagster home whose Connect server runs for this module, stopped at its end."""
    path = tmp_path_factory.mktemp("dagster_home")
    yield path
    engine.stop(path)


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


def test_start_status_run_stop(home, tmp_path, monkeypatch, capsys):
    root = tmp_path / "data"
    root.mkdir()
    (root / "source-data").symlink_to(SAMPLE_SOURCE)
    monkeypatch.setenv("F1_DATA_ROOT", str(root))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv("F1_SPARK_REMOTE", raising=False)

    assert main(["spark", "start"]) == 0
    out = capsys.readouterr().out
    assert "Spark Connect server running at sc://localhost:" in out
    server = engine.read_state(home)
    assert server is not None
    assert server.token not in out
    # The token is the owner's alone: a 0600 state file, never on a command line.
    assert stat.S_IMODE(engine.state_path(home).stat().st_mode) == 0o600
    assert not any(server.token.encode() in line for line in _cmdlines())
    assert engine.running_server(home) == server
    assert main(["spark", "start"]) == 0  # idempotent: the same server
    assert engine.read_state(home) == server
    assert main(["spark", "status"]) == 0
    capsys.readouterr()

    # A client without the token is refused.
    refused = subprocess.run(
        [sys.executable, "-c", NO_TOKEN, server.url],
        capture_output=True, text=True, timeout=120,
        env={k: v for k, v in os.environ.items() if k != engine.TOKEN_ENV},
    )  # fmt: skip
    assert refused.returncode == 0, refused.stderr[-2000:]
    assert "UNAUTHENTICATED" in refused.stdout

    # Runs in processes of their own (as under the daemon) find it and use it.
    script = Path(sys.executable).with_name("f1-pipeline")
    done = subprocess.run([str(script), "run"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"spark: the Connect server at {server.url} (warm)" in done.stdout
    assert _golden(root)

    assert main(["spark", "stop"]) == 0
    assert "stopped the Spark Connect server" in capsys.readouterr().out
    assert engine.running_server(home) is None
    assert main(["spark", "status"]) == 1
    assert "no Spark Connect server running" in capsys.readouterr().out


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

STEPS_OVER_CONNECT = """
import logging, os, sys
from pathlib import Path
from f1_pipeline.core.engine import connect, is_connect_session
from f1_pipeline.core.steps import StepContext, run_step
from f1_pipeline.core.steps.io import LocalStagedIO
from f1_pipeline.core.storage import LocalStorage

session = connect(sys.argv[1])  # the token from the environment
assert is_connect_session(session)
storage = LocalStorage(Path(sys.argv[2]))
ctx = StepContext(storage, session, LocalStagedIO(storage), logging.getLogger("t"), "r", print)
assert run_step("ingest", ctx, {}).data["seasons"] == list(range(2018, 2025))
run_step("season_stats", ctx, {"seasons": list(range(2018, 2025))})
"""


def test_the_steps_publish_the_golden_stats_over_spark_connect(home, data_root):
    server = engine.start(home, engine_conf())
    done = subprocess.run(
        [sys.executable, "-c", STEPS_OVER_CONNECT, server.url, str(data_root)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, engine.TOKEN_ENV: server.token},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert _golden(data_root)


def test_an_unreachable_server_means_a_private_one(pipeline_env, monkeypatch, capsys, spark):
    # A state file left by a server that died: the run goes on, never hangs.
    home = pipeline_env.parent / "dagster_home"
    home.mkdir(exist_ok=True)
    dead = engine.ConnectServer(pid=999_999, port=1, log="", started_at="", token="t")
    engine.state_path(home).write_text(json.dumps(dead.__dict__))
    assert engine.running_server(home) is None
    assert main(["run", "--seasons", "2024"]) == 0
    assert "private server" in capsys.readouterr().out


def test_stop_never_signals_a_process_that_reused_the_pid(tmp_path):
    """The state file names a pid that now belongs to another process: left alone."""
    other = subprocess.Popen(["sleep", "60"])
    try:
        stale = engine.ConnectServer(pid=other.pid, port=1, log="", started_at="", started=1)
        engine.state_path(tmp_path).write_text(json.dumps(stale.__dict__))
        assert engine.stop(tmp_path) is None
        assert other.poll() is None  # still running
        assert not engine.state_path(tmp_path).exists()
    finally:
        other.kill()
        other.wait()


def engine_conf() -> dict[str, str]:
    from f1_pipeline.core.spark import spark_config

    return spark_config("local[2]")
