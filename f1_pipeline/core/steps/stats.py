"""The stats step: per-season ``results/stats_{year}.json`` (the contract) and Parquet tables.

Of the seasons it is given, only those whose data or code changed since they were published
are computed (one Spark job) and rewritten; the others keep their files and their versions,
and their record says so. Every file is rendered before any is written, then the manifest
records what each season was computed from: the data's fingerprint, the upload, and the
versions of the cleaning and stats code. A season the data no longer has is withdrawn only
when its withdrawal was accepted (see :mod:`f1_pipeline.core.holds`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

from f1_pipeline.core.code_version import code_versions
from f1_pipeline.core.contract import contract_json, rows_by_season, season_table_parquet
from f1_pipeline.core.lineage import (
    check_table,
    read_commit,
    read_json,
    record_published,
    table_key,
)
from f1_pipeline.core.steps.base import Phases, StepContext, StepResult
from f1_pipeline.core.steps.metadata import capped, markdown_table, path
from f1_pipeline.core.storage import ObjectInfo, Storage, layout
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.stats import race_stats, with_epoch_micros

SEASON_STATS = "results/season_stats"


def season_code(commit: Mapping[str, Any]) -> dict[str, str | None]:
    """The code a season published now is computed by: the cleaning code that built the
    cleaned layer and this process's stats code."""
    return {"cleaning": commit.get("code_version"), "stats": code_versions()["stats"]}


def stale_seasons(
    commit: Mapping[str, Any],
    manifest: Mapping[str, Any],
    seasons: Sequence[str] | None = None,
    stats_code: str | None = None,
) -> list[str]:
    """Seasons of the data (of ``seasons`` when given) not published from it by the code
    that would publish them now (``stats_code``, with the cleaning code the commit record
    names; None: judged by the data alone): never published, withdrawn, another fingerprint,
    or other code. Oldest first."""
    code = {"cleaning": commit.get("code_version"), "stats": stats_code}
    published = manifest.get("seasons", {})
    fingerprints = commit.get("seasons") or {}
    candidates = fingerprints if seasons is None else [s for s in seasons if s in fingerprints]
    return sorted(
        (
            s
            for s in candidates
            if (entry := published.get(s)) is None
            or entry.get("withdrawn")
            or entry.get("fingerprint") != fingerprints[s]
            or (stats_code is not None and entry.get("code") != code)
        ),
        key=int,
    )


def withdrawable_seasons(
    commit: Mapping[str, Any], manifest: Mapping[str, Any], seasons: Sequence[str] | None = None
) -> list[str]:
    """Published seasons the data no longer has whose withdrawal was accepted."""
    accepted = commit.get("withdrawals_accepted") or {}
    fingerprints = commit.get("seasons") or {}
    published = manifest.get("seasons", {})
    candidates = published if seasons is None else seasons
    return sorted(
        (
            s
            for s in candidates
            if s in published and not published[s].get("withdrawn")
            and s not in fingerprints and s in accepted
        ),
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
    manifest = read_json(storage, layout.manifest()) or {}
    stale = stale_seasons(commit, manifest, seasons, code_versions()["stats"])
    withdraw = withdrawable_seasons(commit, manifest, seasons)
    in_data = commit.get("seasons") or {}
    kept = [s for s in seasons if s not in in_data and s not in withdraw]
    rows = _compute(ctx, commit, [int(s) for s in stale]) if stale else []
    by_season = rows_by_season(rows)
    files, entries = publish_season_files(storage, by_season, commit, ctx.phase)
    with ctx.phase("manifest"):
        entries |= withdraw_seasons(storage, withdraw, commit, ctx.run_id)
        if entries:
            record_published(storage, entries, ctx.run_id)
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
    unchanged = [s for s in seasons if s in in_data and s not in stale]
    ctx.log.info(
        f"published {len(files)} files for {len(by_season)} season(s); {len(unchanged)} unchanged"
    )
    with ctx.phase("metadata"):
        per_season = {
            str(season): season_metadata(
                storage,
                season_rows,
                {k: files[k] for k in (layout.stats_json(season), layout.stats_parquet(season))},
                in_data.get(str(season)),
            )
            for season, season_rows in by_season.items()
        }
        published = read_json(storage, layout.manifest()) or manifest
        for season in unchanged:
            per_season[season] = unchanged_metadata(storage, published["seasons"][season])
        for season in withdraw:
            per_season[season] = {"withdrawn": True, "dagster/row_count": 0,
                                  "kept_at": entries[season]["kept_at"]}  # fmt: skip
        for season in kept:
            per_season[season] = {"not_in_data": True, "withdrawal_accepted": False}
    races = sum(m.get("dagster/row_count", 0) for m in per_season.values())
    counts = (races, len(files), len(unchanged), len(withdraw), len(kept))
    totals = dict(zip(RUN_TOTALS, counts, strict=True))
    return StepResult(
        {SEASON_STATS: {**run_metadata(storage, seasons, stale, withdraw, commit), **totals}},
        {
            "seasons": sorted(int(s) for s in by_season),
            "rewritten": stale,
            "unchanged": unchanged,
            "withdrawn": [int(s) for s in withdraw],
            "season_metadata": per_season,
        },
    )


def _compute(
    ctx: StepContext, commit: Mapping[str, Any], seasons: Sequence[int]
) -> list[dict[str, Any]]:
    """The stats rows of ``seasons``: one Spark job over the cleaned tables the commit
    record names."""
    storage, tables = ctx.storage, commit.get("tables", {})
    with (
        ctx.io.input(table_key(tables, "races"), _version(tables, "races")) as races_in,
        ctx.io.input(table_key(tables, "results"), _version(tables, "results")) as results_in,
    ):
        # What is read must be what the commit record describes: its fingerprints and
        # sources then say truthfully what these stats were computed from.
        check_table(storage, commit, "races", races_in.info)
        check_table(storage, commit, "results", results_in.info)
        races = ctx.session.read.parquet(races_in.spark_path)
        results = ctx.session.read.parquet(results_in.spark_path)
        stats = with_epoch_micros(race_stats(races, results, seasons))
        with ctx.phase("spark"):
            return [r.asDict() for r in stats.collect()]


def _version(tables: Mapping[str, Any], table: str) -> str | None:
    return (tables.get(table) or {}).get("version_id")


def publish_season_files(
    storage: Storage,
    by_season: Mapping[int, Sequence[Mapping[str, Any]]],
    commit: Mapping[str, Any],
    phase: Phases | None = None,
) -> tuple[dict[str, ObjectInfo], dict[str, dict[str, Any]]]:
    """Write each season's JSON and Parquet; return what was written and each season's
    manifest entry: the fingerprint, upload and code of what was computed. Files are written
    concurrently (each write is atomic on its own); the manifest comes after."""
    phase = phase or Phases()
    # Render everything before writing anything: a rendering error publishes nothing.
    with phase("render"):
        rendered = {
            season: {
                layout.stats_json(season): contract_json(rows),
                layout.stats_parquet(season): season_table_parquet(rows),
            }
            for season, rows in by_season.items()
        }
    with phase("write"):
        pending = [(key, data) for files in rendered.values() for key, data in files.items()]
        report = phase.counter("season files written", len(pending))
        done = dict(zip([k for k, _ in pending], _write_all(storage, pending, report), strict=True))
    written: dict[str, ObjectInfo] = {}
    entries = {}
    summaries = commit.get("season_summaries") or {}
    for season, files in rendered.items():
        infos = {key: done[key] for key in files}
        written.update(infos)
        summary = summaries.get(str(season)) or {}
        entries[str(season)] = {
            "fingerprint": commit.get("seasons", {}).get(str(season)),
            "upload": commit.get("upload"),
            "sources": commit.get("sources", {}),
            "code": season_code(commit),
            "races": summary.get("races", len(by_season[season])),
            "results": summary.get("results"),
            "files": {key: info.version for key, info in infos.items()},
        }
    return written, entries


def _write_all(
    storage: Storage, files: Sequence[tuple[str, bytes]], report: Callable[[int], None]
) -> list[ObjectInfo]:
    """Write every file, concurrently where the storage gains from it (network round trips),
    reporting how many are written."""

    def write(item: tuple[str, bytes]) -> ObjectInfo:
        return storage.write_bytes(*item)

    written: list[ObjectInfo] = []
    with ExitStack() as stack:
        if storage.write_concurrency > 1:
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=storage.write_concurrency))
            results = pool.map(write, files)
        else:
            results = map(write, files)
        for info in results:
            written.append(info)
            report(len(written))
    return written


def withdraw_seasons(
    storage: Storage, seasons: Sequence[str], commit: Mapping[str, Any], run_id: str
) -> dict[str, dict[str, Any]]:
    """Take the files of accepted withdrawals out of view, keeping them (a delete marker on a
    versioned bucket, ``archive/<run>/`` on a local root); return their manifest entries:
    withdrawn, by which upload and acceptance, and where the old files are."""
    accepted = commit.get("withdrawals_accepted") or {}
    entries = {}
    for season in seasons:
        keys = (layout.stats_json(season), layout.stats_parquet(season))
        kept = {key: storage.withdraw(key, layout.archived(key, run_id)) for key in keys}
        entries[season] = {
            "withdrawn": True,
            "fingerprint": None,
            "sources": commit.get("sources", {}),
            "withdrawn_by_ingest": commit.get("ingest_run_id"),
            "accepted": accepted.get(season),
            "kept_at": {key: where for key, where in kept.items() if where},
            "files": {key: None for key in keys},
        }
    return entries


def shared_drives(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Races with more than one position-1 row."""
    return [r for r in rows if r["winner_rows"] > 1]


_PREVIEW = ("season", "round", "race_name", "race_datetime", "winner_driver_id",
            "winner_fastest_lap_time")  # fmt: skip


def season_metadata(
    storage: Storage,
    rows: Sequence[Mapping[str, Any]],
    files: Mapping[str, ObjectInfo],
    fingerprint: str | None,
) -> dict[str, Any]:
    """One season partition's own metadata: its races, files (with the versions written),
    the fingerprint of the data it was computed from, and a preview of its rows."""
    shared = shared_drives(rows)
    return {
        "dagster/row_count": len(rows),
        "file_count": len(files),
        "files": {storage.uri(key): info.version for key, info in files.items()},
        "fingerprint": fingerprint,
        "shared_drive_race_count": len(shared),
        "shared_drive_races": markdown_table(
            shared, ("season", "round", "race_name", "winner_rows")
        ),
        "preview": markdown_table(rows[:5], _PREVIEW),
    }


def unchanged_metadata(storage: Storage, entry: Mapping[str, Any]) -> dict[str, Any]:
    """A season the run did not rewrite: its files as published, with their versions."""
    files = entry.get("files") or {}
    return {
        "unchanged": True,
        "dagster/row_count": entry.get("races") or 0,
        "file_count": 0,
        "files": {storage.uri(key): version for key, version in files.items()},
        "fingerprint": entry.get("fingerprint"),
        "published_by_run": entry.get("run_id"),
    }


# The run's totals on every season's event (a run of many seasons records no per-season
# facts): races, files written, seasons unchanged, withdrawn, kept (not in the data).
RUN_TOTALS = ("run_race_count", "run_files_written", "run_unchanged_count",
              "run_withdrawn_count", "run_kept_count")  # fmt: skip


def run_metadata(
    storage: Storage,
    seasons: Sequence[str],
    rewritten: Sequence[str],
    withdrawn: Sequence[str],
    commit: Mapping[str, Any],
) -> dict[str, Any]:
    """What holds for the whole run: Dagster puts it on every partition's event, so it is
    small and says it is the run's."""
    return {
        "run_season_count": len(seasons),
        "run_rewritten_seasons": capped(list(rewritten)),
        "withdrawn_seasons": capped(list(withdrawn)),
        "upload": commit.get("upload"),
        # Which upload the stats were computed from, in one line per file (the manifest and
        # the cleaned tables' lineage hold the full records).
        "source_versions": {
            table: source.get("version_id") or f"sha256:{source.get('checksum', '')[:16]}"
            for table, source in (commit.get("sources") or {}).items()
            if source
        },
        "manifest": path(storage.uri(layout.manifest())),
        "results_dir": path(storage.uri(layout.RESULTS_PREFIX)),
    }
