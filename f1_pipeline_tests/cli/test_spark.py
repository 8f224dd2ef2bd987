"""The warm engine: `f1-pipeline spark start|status|stop` runs a real Spark Connect server on
loopback; `f1-pipeline run` finds it through the Dagster home and publishes the golden stats
over it; with the server stopped (or unreachable) runs use an embedded session."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from f1_pipeline.cli import main
from f1_pipeline.core import engine
from f1_pipeline_tests.conftest import CONNECT_LANE, EXPECTED, SAMPLE_SOURCE


@pytest.fixture(autouse=True)
def _engine_found_by_discovery(monkeypatch):
    """These tests choose the engine themselves: not the Connect lane's server."""
    monkeypatch.delenv("F1_SPARK_REMOTE", raising=False)


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


def test_start_status_run_stop(home, tmp_path, monkeypatch, capsys):
    root = tmp_path / "data"
    shutil.copytree(SAMPLE_SOURCE, root / "source-data")
    monkeypatch.setenv("F1_DATA_ROOT", str(root))
    monkeypatch.setenv("DAGSTER_HOME", str(home))

    assert main(["spark", "start"]) == 0
    out = capsys.readouterr().out
    assert "Spark Connect server running at sc://127.0.0.1:" in out
    server = engine.read_state(home)
    assert server is not None
    assert engine.running_server(home) == server
    assert main(["spark", "start"]) == 0  # idempotent: the same server
    assert engine.read_state(home) == server
    assert main(["spark", "status"]) == 0
    capsys.readouterr()

    # A Connect session switches pyspark to Connect mode for its whole process: the run goes
    # in a process of its own (as every run does under the daemon).
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


STEPS_OVER_CONNECT = """
import logging, sys
from pathlib import Path
from f1_pipeline.core.engine import connect, is_connect_session
from f1_pipeline.core.steps import StepContext, run_step
from f1_pipeline.core.steps.io import LocalStagedIO
from f1_pipeline.core.storage import LocalStorage

session = connect(sys.argv[1])
assert is_connect_session(session)
storage = LocalStorage(Path(sys.argv[2]))
ctx = StepContext(storage, session, LocalStagedIO(storage), logging.getLogger("t"), "r", print)
assert run_step("ingest", ctx, {}).data == {"seasons": list(range(2018, 2025))}
run_step("season_stats", ctx, {"seasons": list(range(2018, 2025))})
"""


def test_the_steps_publish_the_golden_stats_over_spark_connect(home, data_root):
    server = engine.start(home, engine_conf())
    done = subprocess.run(
        [sys.executable, "-c", STEPS_OVER_CONNECT, server.url, str(data_root)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert _golden(data_root)


@pytest.mark.skipif(
    CONNECT_LANE, reason="falls back to an embedded session in this process: the classic lane's"
)
def test_an_unreachable_server_means_an_embedded_session(pipeline_env, monkeypatch, capsys, spark):
    # A state file left by a server that died: the run says so and goes on, never hangs.
    home = pipeline_env.parent / "dagster_home"
    home.mkdir(exist_ok=True)
    dead = engine.ConnectServer(pid=999_999, port=1, log="", started_at="")
    engine.state_path(home).write_text(json.dumps(dead.__dict__))
    assert main(["run", "--seasons", "2024"]) == 0
    assert "spark: embedded session" in capsys.readouterr().out


def engine_conf() -> dict[str, str]:
    from f1_pipeline.core.spark import spark_config

    return spark_config("local[2]")
