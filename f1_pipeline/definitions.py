"""The one place that assembles the code location's Definitions."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job

from f1_pipeline.assets import cleaned, raw, stats
from f1_pipeline.constants import ALL_ASSETS_JOB
from f1_pipeline.resources import build_resources
from f1_pipeline.settings import Settings

f1_job = define_asset_job(
    ALL_ASSETS_JOB,
    selection=AssetSelection.all(),
    description="Ingest the source CSVs, clean them, and publish per-season stats.",
)


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or Settings.from_env()
    return Definitions(
        assets=[*raw.assets, *cleaned.assets, *stats.assets],
        jobs=[f1_job],
        resources=build_resources(settings),
    )


defs = build_definitions()
