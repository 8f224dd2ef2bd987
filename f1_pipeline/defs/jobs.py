"""Asset jobs: everything, the ingest (raw + cleaned), and the season stats."""

from dagster import AssetSelection, define_asset_job

from f1_pipeline.defs.assets.stats import SEASON_STATS
from f1_pipeline.defs.constants import (
    ALL_ASSETS_JOB,
    INGEST_JOB,
    INGEST_LANE,
    SEASON_STATS_JOB,
    SEASONS_LANE,
)

# Run-queue lanes (see defs/instance/dagster.yaml): one ingest at a time, a few season runs
# side by side.


f1_job = define_asset_job(
    ALL_ASSETS_JOB,
    selection=AssetSelection.all(),
    tags=INGEST_LANE,
    description="Ingest the source CSVs, clean them, and publish per-season stats.",
)

ingest_job = define_asset_job(
    INGEST_JOB,
    selection=AssetSelection.all() - AssetSelection.assets(SEASON_STATS),
    tags=INGEST_LANE,
    description="Ingest the source CSVs into the raw and cleaned layers (registers seasons).",
)

season_stats_job = define_asset_job(
    SEASON_STATS_JOB,
    selection=AssetSelection.assets(SEASON_STATS),
    tags=SEASONS_LANE,
    description="Publish the selected seasons' stats (many seasons: one run, one Spark job).",
)

jobs = [f1_job, ingest_job, season_stats_job]
