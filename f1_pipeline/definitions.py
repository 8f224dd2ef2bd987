"""The one place that assembles the code location's Definitions."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from f1_pipeline.defs.assets import cleaned, raw, stats
from f1_pipeline.defs.assets.checks import freshness_check, published_files_agree
from f1_pipeline.defs.catalog import catalogued
from f1_pipeline.defs.jobs import jobs
from f1_pipeline.defs.resources import build_resources
from f1_pipeline.defs.schedules import (
    agreement_schedule,
    freshness_schedule,
    race_weekend_schedule,
)
from f1_pipeline.defs.sensors import sensors_for
from f1_pipeline.settings import Settings


def build_definitions(settings: Settings | None = None) -> Definitions:
    """Everything Dagster shows and runs, configured from ``settings`` (the environment by
    default). Tests swap a resource the Dagster way: a ``Definitions`` with the same parts and
    other resources, or ``materialize(..., resources=...)``."""

    settings = settings or Settings.from_env()
    return Definitions(
        assets=catalogued([*raw.assets, *cleaned.assets, *stats.assets], settings),
        asset_checks=[freshness_check(settings.freshness_grace_hours), published_files_agree],
        jobs=jobs,
        sensors=sensors_for(settings),
        schedules=[
            race_weekend_schedule(settings.race_weekend_cron),
            freshness_schedule(settings.freshness_cron),
            agreement_schedule(settings.agreement_cron),
        ],
        resources=build_resources(settings),
        # One process per run: a run's steps share one Spark session (one JVM) instead of each
        # step process starting its own, and killing a run's process stops all of its work.
        # Glue mode too: its steps only wait on job runs.
        executor=in_process_executor,
    )


defs = build_definitions()
