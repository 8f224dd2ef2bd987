"""Checks beside their assets: the cleaned layer's blocking check specs (evaluated by the
ingest step before anything is published, see :mod:`f1_pipeline.core.steps.checks`), and the
results-freshness check on the season stats (plain Python over the cleaned tables:
:mod:`f1_pipeline.core.freshness`), and the check that the published files are still what was
published, the JSON contract and the Parquet tables agreeing (:mod:`f1_pipeline.core.agreement`)."""

# No `from __future__ import annotations`: Dagster reads the check's context annotation.
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    asset_check,
)

from f1_pipeline.core.agreement import check_published
from f1_pipeline.core.freshness import freshness_of
from f1_pipeline.core.lineage import read_commit
from f1_pipeline.core.steps.ingest import CLEANED_RESULTS as RESULTS_KEY
from f1_pipeline.core.steps.metadata import markdown_table
from f1_pipeline.core.steps.stats import SEASON_STATS as STATS_KEY
from f1_pipeline.defs.constants import CHECK_TIME_TAG
from f1_pipeline.defs.metadata import to_dagster
from f1_pipeline.defs.resources import FreshnessResource, StorageResource

SEASON_STATS = AssetKey.from_user_string(STATS_KEY)
CLEANED_RESULTS = AssetKey.from_user_string(RESULTS_KEY)
FRESHNESS_CHECK = "results_up_to_date"
AGREEMENT_CHECK = "published_files_agree"


def blocking_check(asset_key: AssetKey, name: str, description: str) -> AssetCheckSpec:
    return AssetCheckSpec(name, asset=asset_key, blocking=True, description=description)


def check_time(tags: Mapping[str, str]) -> datetime:
    """The clock a run checks freshness at: its schedule tick's time when a schedule
    launched it (a fixed clock), else now."""
    value = tags.get(CHECK_TIME_TAG)
    return datetime.fromisoformat(value) if value else datetime.now(UTC)


@asset_check(
    asset=SEASON_STATS,
    name=FRESHNESS_CHECK,
    additional_deps=[CLEANED_RESULTS],
    blocking=False,
    description="Every race that started more than the grace period ago (the freshness "
    "resource's grace_hours: F1_FRESHNESS_GRACE_HOURS, 36 h by default) has results in the "
    "latest accepted upload (races after the last one with results). Fails as a warning, "
    "naming the races: the provider is late. Runs after every ingest and on its own schedule.",
)
def freshness_check(
    context: AssetCheckExecutionContext, storage: StorageResource, freshness: FreshnessResource
) -> AssetCheckResult:
    """The freshness signal of the season stats."""
    store = storage.get()
    commit = read_commit(store)
    now = check_time(context.run.tags)
    if commit is None:
        return AssetCheckResult(passed=True, description="no accepted upload yet")
    fresh = freshness_of(store, commit, now, timedelta(hours=freshness.grace_hours))
    context.log.info(fresh.summary())
    rows = [
        {"season": r.season, "round": r.round, "race": r.name, "start (UTC)": f"{r.start:%F %R}"}
        for r in fresh.overdue[:20]
    ]
    return AssetCheckResult(
        passed=fresh.passed,
        severity=AssetCheckSeverity.WARN,
        description=fresh.summary(),
        metadata={
            "overdue_races": len(fresh.overdue),
            "overdue": to_dagster(
                {"x": markdown_table(rows, ("season", "round", "race", "start (UTC)"))}
            )["x"],
            "last_race_with_results": fresh.last_with_results.describe()
            if fresh.last_with_results
            else "none",
            "checked_at": MetadataValue.text(now.isoformat(timespec="seconds")),
            "upload": commit.upload,
            "grace_hours": freshness.grace_hours,
        },
    )


@asset_check(
    asset=SEASON_STATS,
    name=AGREEMENT_CHECK,
    blocking=False,
    description="What is stored now is what was published: every published season's JSON "
    "and Parquet file is the version the manifest recorded, and the JSON contract and the "
    "Parquet table agree, by SQL, on every race (name, round, datetime, winner, the winner's "
    "fastest lap). Runs after every publish and on its own schedule; an error names the "
    "files and races.",
)
def published_files_agree(
    context: AssetCheckExecutionContext, storage: StorageResource
) -> AssetCheckResult:
    agreement = check_published(storage.get())
    (context.log.info if agreement.passed else context.log.error)(agreement.summary())
    return AssetCheckResult(
        passed=agreement.passed,
        severity=AssetCheckSeverity.ERROR,
        description=agreement.summary(),
        metadata={
            "seasons_checked": len(agreement.seasons),
            "files_checked": agreement.files,
            "races_compared": agreement.races,
            "problems": len(agreement.problems),
        },
    )
