"""Publishing seasons: their files written (every file rendered before any is written), a
withdrawn season's files taken out of view and kept, and what each season's record and
partition event say."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from f1_pipeline.core.code_version import code_versions
from f1_pipeline.core.contract import contract_json, schema_json, season_table_parquet
from f1_pipeline.core.lineage import Commit, SeasonEntry
from f1_pipeline.core.steps.base import Phases
from f1_pipeline.core.steps.metadata import markdown_table
from f1_pipeline.core.storage import ObjectInfo, ObjectNotFound, Storage, layout

# A season partition's races: Dagster's key for a partition's row count.
PARTITION_ROWS = "dagster/partition_row_count"


def season_files(season: int | str) -> tuple[str, str]:
    return layout.stats_json(season), layout.stats_parquet(season)


def season_code(commit: Commit) -> dict[str, str | None]:
    """The code a season published now is computed by: the cleaning code that built the
    cleaned layer and this process's stats code."""
    return {"cleaning": commit.code_version, "stats": code_versions()["stats"]}


def publish_season_files(
    storage: Storage,
    by_season: Mapping[int, Sequence[Mapping[str, Any]]],
    commit: Commit,
    phase: Phases | None = None,
) -> tuple[dict[str, ObjectInfo], dict[str, SeasonEntry]]:
    """Write each season's JSON and Parquet; return what was written and each season's
    manifest entry: the fingerprint, upload and code of what was computed. Files are written
    concurrently (each write is atomic on its own); the manifest comes after."""
    phase = phase or Phases()
    # Render everything before writing anything: a rendering error publishes nothing.
    with phase("render"):
        rendered = {
            season: dict(zip(season_files(season), (contract_json(rows),
                                                    season_table_parquet(rows)), strict=True))
            for season, rows in by_season.items()
        }  # fmt: skip
    with phase("write"):
        pending = [(key, data) for files in rendered.values() for key, data in files.items()]
        report = phase.counter("season files written", len(pending))
        done = dict(zip([k for k, _ in pending], _write_all(storage, pending, report), strict=True))
    entries = {}
    for season, files in rendered.items():
        summary = commit.seasons.get(str(season))
        entries[str(season)] = SeasonEntry(
            files={key: done[key].version for key in files},
            sources=commit.sources,
            fingerprint=summary.fingerprint if summary else None,
            upload=commit.upload,
            code=season_code(commit),
            races=summary.races if summary else len(by_season[season]),
            results=summary.results if summary else None,
        )
    return done, entries


def publish_schema(storage: Storage) -> None:
    """results/stats.schema.json, when it is not already this code's."""
    data = schema_json(code_versions()["stats"])
    try:
        same = storage.read_bytes(layout.stats_schema()) == data
    except ObjectNotFound:
        same = False
    if not same:
        storage.write_bytes(layout.stats_schema(), data)


def _write_all(
    storage: Storage, files: Sequence[tuple[str, bytes]], report: Callable[[int], None]
) -> list[ObjectInfo]:
    """Write every file, as many at once as the storage gains from (network round trips),
    reporting how many are written."""
    written: list[ObjectInfo] = []
    with ThreadPoolExecutor(max_workers=storage.write_concurrency) as pool:
        for info in pool.map(lambda item: storage.write_bytes(*item), files):
            written.append(info)
            report(len(written))
    return written


def withdraw_seasons(
    storage: Storage, seasons: Sequence[str], commit: Commit, run_id: str
) -> dict[str, SeasonEntry]:
    """Take the files of accepted withdrawals out of view, keeping them (a delete marker on a
    versioned bucket, ``archive/<run>/`` on a local root); return their manifest entries:
    withdrawn, by which upload and acceptance, and where the old files are."""
    entries = {}
    for season in seasons:
        kept = {key: storage.withdraw(key, layout.archived(key, run_id))
                for key in season_files(season)}  # fmt: skip
        entries[season] = SeasonEntry(
            files=dict.fromkeys(kept),
            sources=commit.sources,
            withdrawn=True,
            withdrawn_by_ingest=commit.ingest_run_id,
            accepted=commit.withdrawals_accepted.get(season),
            kept_at={key: where for key, where in kept.items() if where},
        )
    return entries


def shared_drives(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Races with more than one position-1 row."""
    return [r for r in rows if r["winner_rows"] > 1]


_PREVIEW = ("season", "round", "race_name", "race_datetime", "winner_driver_id",
            "winner_fastest_lap_time")  # fmt: skip


def season_metadata(
    storage: Storage, rows: Sequence[Mapping[str, Any]], entry: SeasonEntry
) -> dict[str, Any]:
    """What a person reads on a season partition's page: its races, its files (with the
    versions written), the data they were computed from, its first races and any shared
    drives."""
    shared = shared_drives(rows)
    metadata = {
        PARTITION_ROWS: len(rows),
        "files": {storage.uri(key): version for key, version in entry.files.items()},
        "fingerprint": entry.fingerprint,
        "preview": markdown_table(rows[:5], _PREVIEW),
    }
    if shared:
        metadata["shared_drive_races"] = markdown_table(
            shared, ("round", "race_name", "winner_rows")
        )
    return metadata


def unchanged_metadata(storage: Storage, entry: SeasonEntry) -> dict[str, Any]:
    """A season the run did not rewrite: its files as published, with their versions."""
    return {
        "unchanged": True,
        PARTITION_ROWS: entry.races or 0,
        "files": {storage.uri(key): version for key, version in entry.files.items()},
        "fingerprint": entry.fingerprint,
        "published_by_run": entry.run_id,
    }


# The run's totals on every season's event (a run of many seasons records no per-season
# facts): races, files written, seasons unchanged, withdrawn, kept (not in the data).
RUN_TOTALS = ("run_race_count", "run_files_written", "run_unchanged_count",
              "run_withdrawn_count", "run_kept_count")  # fmt: skip
