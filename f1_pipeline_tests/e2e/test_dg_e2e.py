"""`dg launch` beside a running daemon (`dg dev`, as `make ui`): it runs in its own process,
outside the run queue, and the pools its steps claim keep it from writing the season stats
while the daemon's run writes them."""

from __future__ import annotations

import itertools
import json

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from f1_pipeline.core.storage import layout
from f1_pipeline.defs.instance import prepare_home
from f1_pipeline_tests.defs.instance.test_postgres import _step_span
from f1_pipeline_tests.defs.test_dg import dg
from f1_pipeline_tests.e2e.dagster_dev import dagster_dev, wait_until
from f1_pipeline_tests.reference_pandas import stats_by_season

pytestmark = pytest.mark.e2e
STEP = "results__season_stats"


def _published(root) -> dict[int, dict]:
    return {
        s: json.loads((root / layout.stats_json(s)).read_text())
        for s in range(2018, 2025)
        if (root / layout.stats_json(s)).exists()
    }


def test_dg_launch_beside_the_daemon_waits_for_the_pools(
    data_root, tmp_path, monkeypatch, expected_dir
):
    home = prepare_home(tmp_path / "home")
    monkeypatch.setenv("F1_DATA_ROOT", str(data_root))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    log = tmp_path / "dg-dev.log"
    golden = {
        s: json.loads((expected_dir / f"stats_{s}.json").read_text()) for s in range(2018, 2025)
    }
    with dagster_dev(log), DagsterInstance.from_config(str(home)) as instance:
        wait_until(lambda: _published(data_root) == golden, 300, "the golden stats", log)

        # A correction: the daemon's sensor starts a run; dg launch 2024 as soon as it does.
        results = data_root / layout.source_csv("results")
        original = results.read_bytes()
        results.write_bytes(original + b"99001,1133,1,1,01:20.0\r\n")
        runs = lambda: instance.get_runs(RunsFilter(job_name="f1_job"))  # noqa: E731
        wait_until(
            lambda: len(runs()) == 2 and runs()[0].status == DagsterRunStatus.STARTED,
            120, "the daemon's run of the correction", log, interval=0.2,
        )  # fmt: skip
        launched = dg("launch", "--assets", "results/season_stats", "--partition", "2024")
        assert launched.returncode == 0, launched.stderr[-3000:]

        want = stats_by_season(data_root / layout.source_csv("races"), results)
        wait_until(lambda: _published(data_root) == want, 300, "the correction", log)
        wait_until(
            lambda: all(r.is_finished for r in instance.get_runs()), 120, "every run to end", log
        )
        everything = instance.get_runs()
        assert {r.status for r in everything} == {DagsterRunStatus.SUCCESS}
        [by_dg] = [r for r in everything if r.job_name != "f1_job"]
        daemons = runs()[0]
        # Both wrote season stats; never at the same time.
        spans = sorted(_step_span(instance, r.run_id, STEP) for r in (by_dg, daemons))
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start, f"dg launch and the daemon's run wrote at once: {spans}"
