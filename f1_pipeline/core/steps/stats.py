"""The stats step: per-season ``results/stats_{year}.json`` (the contract) and Parquet tables.

Rows are computed by Spark; every file is rendered before any is written, then the manifest
records what each season was computed from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

from f1_pipeline.core.contract import contract_json, rows_by_season, season_table_parquet
from f1_pipeline.core.lineage import check_table, read_commit, read_json, record_published
from f1_pipeline.core.steps.base import Phases, StepContext, StepResult
from f1_pipeline.core.steps.metadata import capped, markdown_table, path
from f1_pipeline.core.storage import ObjectInfo, Storage, layout
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.stats import race_stats, with_epoch_micros

SEASON_STATS = "results/season_stats"


def season_stats_step(ctx: StepContext, params: Mapping[str, Any]) -> StepResult:
    """``params["seasons"]``: the seasons (partition keys) to compute and publish. A season
    that is no longer in the data is withdrawn (its files removed, the manifest saying so)
    rather than failing the others."""
    storage = ctx.storage
    seasons = sorted(int(s) for s in params["seasons"])
    if not seasons:
        raise ValueError("the season stats step needs at least one season")
    commit = read_commit(storage)
    if commit is None:
        raise InvalidInputError(
            storage.uri(layout.season_fingerprints()), "no cleaned data yet: ingest an upload"
        )
    tables = commit.get("tables", {})
    with (
        ctx.io.input(races_key := layout.cleaned_parquet("races"), _version(tables, "races"))
        as races_in,
        ctx.io.input(layout.cleaned_parquet("results"), _version(tables, "results"))
        as results_in,
    ):  # fmt: skip
        # What is read must be what the commit record describes: its fingerprints and
        # sources then say truthfully what these stats were computed from.
        check_table(storage, commit, "races", races_in.info)
        check_table(storage, commit, "results", results_in.info)
        races = ctx.session.read.parquet(races_in.spark_path)
        results = ctx.session.read.parquet(results_in.spark_path)
        stats = with_epoch_micros(race_stats(races, results, seasons))
        with ctx.phase("spark"):
            rows = [r.asDict() for r in stats.collect()]
    by_season = rows_by_season(rows)
    manifest = read_json(storage, layout.manifest()) or {}
    withdrawn = [s for s in seasons if s not in by_season]
    files, entries = publish_season_files(storage, by_season, commit, ctx.phase)
    with ctx.phase("manifest"):
        entries |= withdraw_seasons(storage, withdrawn, commit, manifest)
        if entries:
            record_published(storage, entries, ctx.run_id)
    for race in shared_drives(rows):
        ctx.log.warning(
            f"{race['season']} round {race['round']} ({race['race_name']}): "
            f"{race['winner_rows']} position-1 rows (shared drive); winner taken from the "
            "lowest resultId"
        )
    if withdrawn:
        ctx.log.warning(
            f"season(s) {', '.join(map(str, withdrawn))} have no races in {storage.uri(races_key)}"
            ": withdrawn (their published files removed; earlier versions stay in a "
            "versioned bucket)"
        )
    ctx.log.info(f"published {len(files)} files for {len(by_season)} season(s)")
    with ctx.phase("metadata"):
        fingerprints = commit.get("seasons", {})
        per_season = {
            str(season): season_metadata(
                storage,
                season_rows,
                {k: files[k] for k in (layout.stats_json(season), layout.stats_parquet(season))},
                fingerprints.get(str(season)),
            )
            for season, season_rows in by_season.items()
        }
    return StepResult(
        {SEASON_STATS: run_metadata(storage, seasons, withdrawn, commit)},
        {"seasons": sorted(by_season), "withdrawn": withdrawn, "season_metadata": per_season},
    )


def _version(tables: Mapping[str, Any], table: str) -> str | None:
    return (tables.get(table) or {}).get("version_id")


def publish_season_files(
    storage: Storage,
    by_season: Mapping[int, Sequence[Mapping[str, Any]]],
    commit: Mapping[str, Any],
    phase: Phases | None = None,
) -> tuple[dict[str, ObjectInfo], dict[str, dict[str, Any]]]:
    """Write each season's JSON and Parquet; return what was written and each season's
    manifest entry: the fingerprint and source versions of the data read. Files are
    written concurrently (each write is atomic on its own); the manifest comes after."""
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
    for season, files in rendered.items():
        infos = {key: done[key] for key in files}
        written.update(infos)
        entries[str(season)] = {
            "fingerprint": commit.get("seasons", {}).get(str(season)),
            "sources": commit.get("sources", {}),
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
    storage: Storage,
    seasons: Sequence[int],
    commit: Mapping[str, Any],
    manifest: Mapping[str, Any],
) -> dict[str, dict[str, Any]]:
    """Remove the files of seasons the data no longer has; return their manifest entries
    (withdrawn, by which upload). A season never published leaves no entry."""
    entries = {}
    for season in seasons:
        keys = (layout.stats_json(season), layout.stats_parquet(season))
        removed = [key for key in keys if storage.delete(key)]
        if removed or str(season) in manifest.get("seasons", {}):
            entries[str(season)] = {
                "withdrawn": True,
                "fingerprint": None,
                "sources": commit.get("sources", {}),
                "withdrawn_by_ingest": commit.get("ingest_run_id"),
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


def run_metadata(
    storage: Storage, seasons: Sequence[int], withdrawn: Sequence[int], commit: Mapping[str, Any]
) -> dict[str, Any]:
    """What holds for the whole run: Dagster puts it on every partition's event, so it is
    small and says it is the run's."""
    return {
        "run_season_count": len(seasons),
        "withdrawn_seasons": capped(list(withdrawn)),
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
