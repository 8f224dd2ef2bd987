"""The team set-up, as `make team` starts it: PostgreSQL, the warm engine, a gRPC code server,
the webserver and the daemon as supervisord's programs (`f1-pipeline team up`), watching a
bucket on moto's S3 server. Uploads made with S3 calls are published equal to the golden
files; the code location is reloaded in the middle (a code change, picked up without
restarting the webserver or the daemon); runs and events live in PostgreSQL only; `team down`
leaves no process behind.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from f1_pipeline.cli.team import PROGRAMS, team_dir
from f1_pipeline.cli.webserver import code_location, graphql
from f1_pipeline_tests import postgres
from f1_pipeline_tests.conftest import SAMPLE_SOURCE
from f1_pipeline_tests.e2e.dagster_dev import free_port, wait_until
from f1_pipeline_tests.e2e.test_daemon_e2e import _published
from f1_pipeline_tests.reference_pandas import stats_by_season

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not postgres.available(), reason="no initdb/postgres on PATH"),
]

CODE_V1 = "from f1_pipeline.definitions import defs\n"
# The change a developer makes: one more job. Seen only after the code location reloads.
CODE_V2 = """import os

from dagster import Definitions, definitions, job, op

from f1_pipeline.core.aws import with_aws_defaults
from f1_pipeline.definitions import build_definitions


@op
def hello():
    return "reloaded"


@job
def reloaded_job():
    hello()


@definitions
def defs():
    with_aws_defaults(os.environ)
    return Definitions.merge(build_definitions(os.environ), Definitions(jobs=[reloaded_job]))
"""
JOBS = """{ repositoriesOrError { ... on RepositoryConnection { nodes { jobs { name } } } } }"""


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("f1-pipeline")), *args],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"{args}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _jobs(url: str) -> set[str]:
    repos = graphql(url, JOBS)["repositoriesOrError"]["nodes"]
    return {job["name"] for repo in repos for job in repo["jobs"]}


def _pids(env: dict[str, str]) -> dict[str, str]:
    """Each program's pid, as `team status` (supervisorctl) shows it; all of them running."""
    lines = [line.split() for line in _cli(env, "team", "status").splitlines()]
    assert {line[1] for line in lines if line[0] in PROGRAMS} == {"RUNNING"}, lines
    return {line[0]: line[3].rstrip(",") for line in lines if line[0] in PROGRAMS}


def _processes_of(home: Path) -> list[int]:
    """Every process whose environment names this Dagster home."""
    marker = f"DAGSTER_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_the_team_set_up_publishes_reloads_and_stops_cleanly(bucket, s3_client, expected_dir):
    root = postgres.shared_tmp("f1-team-")  # the postgres user reaches its cluster here
    home, code = root / "home", root / "code"
    code.mkdir()
    (code / "team_code.py").write_text(CODE_V1)
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "F1_DATA_ROOT": f"s3://{bucket}",
           "PYTHONPATH": str(code)}  # fmt: skip
    for name in [n for n in env if n.startswith("DAGSTER_PG_")] + ["F1_DAGSTER_STORAGE"]:
        env.pop(name, None)  # the home's own server
    log = team_dir(home) / "logs" / "daemon.log"
    try:
        out = _cli(env, "team", "up", "--port", str(port), "--code-module", "team_code")
        url = f"http://127.0.0.1:{port}"
        assert url in out
        assert "PostgreSQL 127.0.0.1:" in out
        first = _pids(env)
        assert set(first) == set(PROGRAMS)
        conf = team_dir(home) / "supervisord.conf"
        assert conf.stat().st_mode & 0o777 == 0o600  # the password and the token are in it

        # 1. The sample, uploaded with S3 calls: every season published, equal to the golden.
        for name in ("races", "results"):
            s3_client.upload_file(
                str(SAMPLE_SOURCE / f"{name}.csv"), bucket, f"source-data/{name}.csv"
            )
        golden = {
            s: json.loads((expected_dir / f"stats_{s}.json").read_text()) for s in range(2018, 2025)
        }
        wait_until(lambda: _published(s3_client, bucket) == golden, 300, "the golden stats", log)

        # 2. A code change, reloaded: the webserver serves it, nothing was restarted.
        assert "reloaded_job" not in _jobs(url)
        before = code_location(url).version
        (code / "team_code.py").write_text(CODE_V2)
        assert "reloaded code location f1_pipeline" in _cli(env, "team", "reload")
        assert code_location(url).version != before
        assert "reloaded_job" in _jobs(url)
        assert _pids(env) == first  # nothing was restarted

        # 3. The daemon runs on the reloaded code: a correction is published.
        edited = root / "results.csv"
        edited.write_bytes(
            (SAMPLE_SOURCE / "results.csv").read_bytes() + b"99001,1133,1,1,01:20.0\r\n"
        )
        s3_client.upload_file(str(edited), bucket, "source-data/results.csv")
        want = stats_by_season(SAMPLE_SOURCE / "races.csv", edited)
        wait_until(lambda: _published(s3_client, bucket) == want, 300, "the correction", log)

        # Runs and events in PostgreSQL only; every run on the warm engine.
        assert not [p for p in home.rglob("*") if p.suffix == ".db" or p.name.endswith(".db-wal")]
        pg_env = {k: v for k, v in _team_env(env).items() if k.startswith("DAGSTER_PG_")}
        saved = dict(os.environ)
        os.environ.update(pg_env)
        try:
            with DagsterInstance.from_config(str(home)) as instance:
                # The files are published before the run ends (its checks, its events).
                done = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE}

                def ended() -> bool:
                    statuses = {r.status for r in instance.get_runs(RunsFilter(job_name="f1_job"))}
                    return statuses <= done

                wait_until(ended, 120, "the runs' end", log)
                runs = instance.get_runs(RunsFilter(job_name="f1_job"))
                assert len(runs) >= 2
                assert {r.status for r in runs} == {DagsterRunStatus.SUCCESS}
                for run in runs:
                    messages = [r.user_message for r in instance.all_logs(run.run_id)]
                    assert any("Spark: the Connect server at" in m for m in messages), run.run_id
                    assert not any("this run's own session" in m for m in messages), run.run_id
        finally:
            os.environ.clear()
            os.environ.update(saved)
    finally:
        down = subprocess.run(
            [str(Path(sys.executable).with_name("f1-pipeline")), "team", "down"],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert down.returncode == 0, down.stderr
    assert "stopped daemon, webserver, code-server, spark, postgres" in down.stdout
    assert _processes_of(home) == []
    shutil.rmtree(root, ignore_errors=True)


def _team_env(env: dict[str, str]) -> dict[str, str]:
    """What `f1-pipeline team env` exports, parsed."""
    import shlex

    exports = {}
    for line in _cli(env, "team", "env").splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        exports[name] = shlex.split(value)[0] if value else ""
    return exports
