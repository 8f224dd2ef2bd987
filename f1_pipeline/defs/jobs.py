"""Asset jobs: everything, the ingest (raw + cleaned), and the season stats."""

from dagster import AssetSelection, define_asset_job

from f1_pipeline.defs.assets.stats import SEASON_STATS
from f1_pipeline.defs.constants import ALL_ASSETS_JOB, INGEST_JOB, SEASON_STATS_JOB

# How many of each run at once is the assets' pools' business (defs/instance/dagster.yaml),
# so a run launched from any page is throttled the same way.

f1_job = define_asset_job(
    ALL_ASSETS_JOB,
    selection=AssetSelection.all(),
    description="Ingest the source CSVs, clean them, and publish per-season stats.",
)

ingest_job = define_asset_job(
    INGEST_JOB,
    selection=AssetSelection.all() - AssetSelection.assets(SEASON_STATS),
    description="Ingest the source CSVs into the raw and cleaned layers (registers seasons).",
)

season_stats_job = define_asset_job(
    SEASON_STATS_JOB,
    selection=AssetSelection.assets(SEASON_STATS),
    description="Publish the selected seasons' stats (many seasons: one run, one Spark job).",
)

jobs = [f1_job, ingest_job, season_stats_job]
