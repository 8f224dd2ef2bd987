"""Asset jobs: the publish job (an upload becomes one run) and the checks-only job."""

from __future__ import annotations

from dagster import AssetCheckKey, AssetSelection, define_asset_job

from f1_pipeline.defs.assets.checks import AGREEMENT_CHECK, FRESHNESS_CHECK
from f1_pipeline.defs.assets.cleaned import CLEANED_RACES, CLEANED_RESULTS
from f1_pipeline.defs.assets.stats import SEASON_STATS
from f1_pipeline.defs.constants import AGREEMENT_JOB, FRESHNESS_JOB, PUBLISH_JOB

# What the publish job writes: "in flight" is decided by these, whatever launched a run.
PUBLISHED_ASSETS = frozenset({CLEANED_RACES, CLEANED_RESULTS, SEASON_STATS})
CLEANED_ASSETS = (CLEANED_RACES, CLEANED_RESULTS)

# How many runs of each at once is the assets' pools' business (defs/instance/dagster.yaml),
# so a run launched from any page, or in-process, is held back the same way.
f1_job = define_asset_job(
    PUBLISH_JOB,
    selection=AssetSelection.assets(*PUBLISHED_ASSETS),
    description="An upload into published seasons, in one run: ingest the source CSVs (held "
    "when they would remove published data), then publish the seasons whose data or code "
    "changed; the others are recorded as unchanged. Launched over every season partition.",
)

freshness_check_job = define_asset_job(
    FRESHNESS_JOB,
    selection=AssetSelection.checks(AssetCheckKey(SEASON_STATS, FRESHNESS_CHECK)),
    description="The results-freshness check alone: a provider who sends nothing triggers no "
    "ingest, so the check also runs on its own schedule.",
)

agreement_check_job = define_asset_job(
    AGREEMENT_JOB,
    selection=AssetSelection.checks(AssetCheckKey(SEASON_STATS, AGREEMENT_CHECK)),
    description="The published-files check alone (files as the manifest recorded them, JSON "
    "and Parquet agreeing): a file changed behind the platform's back is found without an "
    "upload.",
)

jobs = [f1_job, freshness_check_job, agreement_check_job]
