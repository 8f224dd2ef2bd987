"""The steps alone (no Dagster, as the Glue job runs them) publish the golden outputs."""

from __future__ import annotations

import logging

from f1_pipeline.core.steps import StepContext, run_step
from f1_pipeline.core.steps.io import LocalStagedIO
from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline_tests.conftest import EXPECTED

LOG = logging.getLogger("f1_pipeline_tests.steps")
SEASONS = list(range(2018, 2025))


def test_steps_publish_the_golden_stats_byte_for_byte(spark, data_root):
    storage = LocalStorage(data_root)
    ctx = StepContext(storage, spark, LocalStagedIO(storage), LOG, "run-golden", lambda c: None)
    ingest = run_step("ingest", ctx, {})
    assert ingest.data["seasons"] == SEASONS
    assert ingest.data["unchanged"] is False
    run_step("season_stats", ctx, {"seasons": SEASONS})
    published = sorted(p.name for p in (data_root / layout.RESULTS_PREFIX).glob("stats_*.json"))
    assert published == sorted(p.name for p in EXPECTED.glob("stats_*.json"))
    for name in published:
        assert (data_root / "results" / name).read_bytes() == (EXPECTED / name).read_bytes(), name
