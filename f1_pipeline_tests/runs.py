"""Runs of the publish job in the test's process, as `f1-pipeline run` makes them."""

from __future__ import annotations

from collections.abc import Sequence

from dagster import DagsterInstance

from f1_pipeline.cli import launch
from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.resources import storage_resource


def publish(
    settings, instance: DagsterInstance, seasons: Sequence[int] | None = None, defs=None
) -> launch.RunResult:
    """One upload into published seasons (all of them, or ``seasons``); CommandError with
    the CLI's message when a run fails."""
    storage = storage_resource(settings).get()
    plan = launch.plan(instance, storage, settings.last_plausible_season, seasons)
    defs = defs or build_definitions(settings)
    return launch.publish(defs, instance, storage, plan, {})


def season_events(result: launch.RunResult) -> dict[str, dict]:
    """Each season's materialisation metadata, by season."""
    return {m.partition: m.metadata for m in result.materialized if m.partition}
