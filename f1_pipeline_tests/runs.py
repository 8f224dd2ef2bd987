"""Runs of the publish job in the test's process, as `f1-pipeline run` makes them."""

from __future__ import annotations

from collections.abc import Sequence

from dagster import DagsterInstance, Definitions

from f1_pipeline.cli import launch
from f1_pipeline.defs.constants import STEP_RUNNER_KEY, STORAGE_KEY


def publish(
    defs: Definitions, instance: DagsterInstance, seasons: Sequence[int] | None = None
) -> launch.RunResult:
    """One upload into published seasons (all of them, or ``seasons``), as `f1-pipeline run`
    makes it; CommandError with the CLI's message when a run fails."""
    storage = defs.resources[STORAGE_KEY].get()
    last = defs.resources[STEP_RUNNER_KEY].last_season()
    plan = launch.plan(instance, storage, last, seasons)
    return launch.publish(defs, instance, storage, plan, {})


def season_events(result: launch.RunResult) -> dict[str, dict]:
    """Each season's materialisation metadata, by season."""
    return {m.partition: m.metadata for m in result.materialized if m.partition}
