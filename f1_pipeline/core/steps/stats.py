"""The stats step: per-season ``results/stats_{year}.json`` (the contract) and Parquet tables.

Of the seasons it is given, only those whose data or code changed since they were published
are computed (one Spark job) and rewritten; the others keep their files and their versions,
and their record says so. Every file is rendered before any is written, then the manifest
records what each season was computed from: the data's fingerprint, the upload, and the
versions of the cleaning and stats code. A season the data no longer has is withdrawn only
when its withdrawal was accepted (see :mod:`f1_pipeline.core.holds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from f1_pipeline.core.code_version import code_versions
from f1_pipeline.core.contract import rows_by_season
from f1_pipeline.core.lineage import (
    Commit,
    Manifest,
    read_commit,
    read_manifest,
    record_published,
)
from f1_pipeline.core.steps.base import StepContext, StepResult
from f1_pipeline.core.steps.publish import (
    PARTITION_ROWS,
    RUN_TOTALS,
    publish_schema,
    season_files,
    season_metadata,
    shared_drives,
    unchanged_metadata,
    withdraw_seasons,
)
from f1_pipeline.core.steps.publish import publish_season_files as publish_files
from f1_pipeline.core.storage import ObjectChanged, layout
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.schema import RACES, RESULTS
from f1_pipeline.core.transforms.stats import race_stats, with_epoch_micros

SEASON_STATS = "results/season_stats"


def stale_seasons(
    commit: Commit,
    manifest: Manifest,
    seasons: Sequence[str] | None = None,
    stats_code: str | None = None,
) -> list[str]:
    """Seasons of the data (of ``seasons`` when given) not published from it by the code
    that would publish them now (``stats_code``, with the cleaning code the commit record
    names; None: judged by the data alone): never published, withdrawn, another fingerprint,
    or other code. Oldest first."""
    code = {"cleaning": commit.code_version, "stats": stats_code}
    candidates = commit.seasons if seasons is None else [s for s in seasons if s in commit.seasons]
    return sorted(
        (
            s
            for s in candidates
            if (entry := manifest.seasons.get(s)) is None
            or entry.withdrawn
            or entry.fingerprint != commit.seasons[s].fingerprint
            or (stats_code is not None and entry.code != code)
        ),
        key=int,
    )


def withdrawable_seasons(
    commit: Commit, manifest: Manifest, seasons: Sequence[str] | None = None
) -> list[str]:
    """Published seasons the data no longer has whose withdrawal was accepted."""
    candidates = manifest.published() if seasons is None else seasons
    return sorted(
        (s for s in candidates if s in manifest.published() and s not in commit.seasons
         and s in commit.withdrawals_accepted),
        key=int,
    )  # fmt: skip


def season_stats_step(ctx: StepContext, params: Mapping[str, Any]) -> StepResult:
    """``params["seasons"]``: the seasons (partition keys) of the run. Those whose data or
    code changed are computed and published; those unchanged are reported with their
    published versions; those the data no longer has are withdrawn if accepted, else kept."""
    storage = ctx.storage
    seasons = [str(s) for s in sorted(int(s) for s in params["seasons"])]
    if not seasons:
        raise ValueError("the season stats step needs at least one season")
    commit = read_commit(storage)
    if commit is None:
        raise InvalidInputError(
            storage.uri(layout.season_fingerprints()), "no cleaned data yet: ingest an upload"
        )
    manifest = read_manifest(storage)
    stale = stale_seasons(commit, manifest, seasons, code_versions()["stats"])
    withdraw = withdrawable_seasons(commit, manifest, seasons)
    kept = [s for s in seasons if s not in commit.seasons and s not in withdraw]
    unchanged = [s for s in seasons if s in commit.seasons and s not in stale]
    rows = _compute(ctx, commit, [int(s) for s in stale]) if stale else []
    by_season = rows_by_season(rows)
    files, entries = publish_files(storage, by_season, commit, ctx.phase)
    with ctx.phase("manifest"):
        entries |= withdraw_seasons(storage, withdraw, commit, ctx.run_id)
        if entries:
            record_published(storage, entries, ctx.run_id)
            publish_schema(storage)
    _log(ctx, rows, withdraw, kept)
    ctx.log.info(
        f"published {len(files)} files for {len(by_season)} season(s); {len(unchanged)} unchanged"
    )
    with ctx.phase("metadata"):
        per_season = {
            str(season): season_metadata(storage, season_rows, entries[str(season)])
            for season, season_rows in by_season.items()
        }
        for season in unchanged:
            per_season[season] = unchanged_metadata(storage, manifest.seasons[season])
        for season in withdraw:
            per_season[season] = {"withdrawn": True, PARTITION_ROWS: 0,
                                  "kept_at": entries[season].kept_at}  # fmt: skip
        for season in kept:
            per_season[season] = {"not_in_data": True, "withdrawal_accepted": False}
    races = sum(m.get(PARTITION_ROWS, 0) for m in per_season.values())
    counts = (races, len(files), len(unchanged), len(withdraw), len(kept))
    totals = dict(zip(RUN_TOTALS, counts, strict=True))
    return StepResult(
        {SEASON_STATS: {**lineage_metadata(commit), **totals}},
        {
            "seasons": sorted(int(s) for s in by_season),
            "rewritten": stale,
            "unchanged": unchanged,
            "withdrawn": [int(s) for s in withdraw],
            "season_metadata": per_season,
        },
    )


def _log(
    ctx: StepContext, rows: Sequence[Mapping[str, Any]], withdraw: list[str], kept: list[str]
) -> None:
    for race in shared_drives(rows):
        ctx.log.warning(
            f"{race['season']} round {race['round']} ({race['race_name']}): "
            f"{race['winner_rows']} position-1 rows (shared drive); winner taken from the "
            "lowest resultId"
        )
    if withdraw:
        ctx.log.warning(
            f"season(s) {', '.join(withdraw)} withdrawn as accepted: their files are out of "
            "view and kept (versions on a versioned bucket, archive/ on a local root)"
        )
    if kept:
        ctx.log.warning(
            f"season(s) {', '.join(kept)} are not in the data but their withdrawal was never "
            "accepted: their published files are kept"
        )


def _compute(ctx: StepContext, commit: Commit, seasons: Sequence[int]) -> list[dict[str, Any]]:
    """The stats rows of ``seasons``: one Spark job over the cleaned tables the commit
    record names, exactly those versions (its fingerprints and sources then say truthfully
    what these stats were computed from)."""
    races, results = commit.tables["races"], commit.tables["results"]
    with (
        ctx.io.input(races.key, races.version_id) as races_in,
        ctx.io.input(results.key, results.version_id) as results_in,
    ):
        for table, got in ((races, races_in.info), (results, results_in.info)):
            if got.checksum != table.checksum:
                raise ObjectChanged(
                    f"{ctx.storage.uri(got.key)} is not the version the cleaned layer's commit "
                    "record names (an ingest is publishing, or was interrupted)"
                )
        read = ctx.session.read
        stats = race_stats(
            read.schema(RACES.cleaned_ddl).parquet(races_in.spark_path),
            read.schema(RESULTS.cleaned_ddl).parquet(results_in.spark_path),
            seasons,
        )
        with ctx.phase("spark"):
            rows = [r.asDict() for r in with_epoch_micros(stats).collect()]
    return sorted(rows, key=lambda r: (r["season"], r["round"], r["race_id"]))


def lineage_metadata(commit: Commit) -> dict[str, Any]:
    """What every season of the run was computed from (Dagster puts the step's metadata on
    each partition's event, so it is this and the run's totals, no list of seasons): the
    upload, and its source files in one line each (the manifest and the cleaned tables'
    lineage hold the full records)."""
    return {
        "upload": commit.upload,
        "source_versions": {
            table: source.version_id or f"sha256:{source.checksum[:16]}"
            for table, source in commit.sources.items()
        },
    }


__all__ = ["SEASON_STATS", "season_files", "season_stats_step", "stale_seasons"]
