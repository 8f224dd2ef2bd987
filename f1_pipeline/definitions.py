"""The one place that assembles the code location's Definitions."""

from __future__ import annotations

from typing import Any

from dagster import Definitions

from f1_pipeline.assets import cleaned, raw, stats
from f1_pipeline.jobs import jobs
from f1_pipeline.resources import build_resources
from f1_pipeline.schedules import race_weekend_schedule
from f1_pipeline.sensors import sensors
from f1_pipeline.settings import Settings


def build_definitions(settings: Settings | None = None, glue: Any | None = None) -> Definitions:
    """``glue``: a Glue client to use in Glue mode instead of one built from the settings."""
    settings = settings or Settings.from_env()
    return Definitions(
        assets=[*raw.assets, *cleaned.assets, *stats.assets],
        jobs=jobs,
        sensors=sensors,
        schedules=[race_weekend_schedule(settings.race_weekend_cron)],
        resources=build_resources(settings, glue),
    )


defs = build_definitions()
