"""Publishing computed seasons: render every file first, then write, then the manifest."""

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import MetadataValue

from f1_pipeline.assets.metadata import METADATA_ITEMS, capped, markdown_table
from f1_pipeline.contract import contract_json, rows_by_season, season_table_parquet
from f1_pipeline.lineage import record_published
from f1_pipeline.storage import ObjectInfo, Storage, layout


def publish_season_files(
    storage: Storage,
    by_season: Mapping[int, Sequence[Mapping[str, Any]]],
    lineage: Mapping[str, Any],
    run_id: str,
) -> dict[str, ObjectInfo]:
    """Write each season's JSON and Parquet, then record them in ``results/_manifest.json``
    with the fingerprint and source versions they were computed from."""
    # Render everything before writing anything: a rendering error publishes nothing.
    rendered = {
        season: {
            layout.stats_json(season): contract_json(rows),
            layout.stats_parquet(season): season_table_parquet(rows),
        }
        for season, rows in by_season.items()
    }
    written: dict[str, ObjectInfo] = {}
    entries = {}
    for season, files in rendered.items():
        infos = {key: storage.write_bytes(key, data) for key, data in files.items()}
        written.update(infos)
        entries[str(season)] = {
            "fingerprint": lineage.get("seasons", {}).get(str(season)),
            "sources": lineage.get("sources", {}),
            "files": {key: info.version for key, info in infos.items()},
        }
    record_published(storage, entries, run_id)
    return written


def shared_drives(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Races with more than one position-1 row."""
    return [r for r in rows if r["winner_rows"] > 1]


_PREVIEW = ("season", "round", "race_name", "race_datetime", "winner_driver_id",
            "winner_fastest_lap_time")  # fmt: skip


def stats_metadata(
    storage: Storage,
    rows: Sequence[Mapping[str, Any]],
    files: Mapping[str, ObjectInfo],
    lineage: Mapping[str, Any],
) -> dict[str, Any]:
    """Materialisation metadata. Dagster copies it onto every partition's event in a
    multi-season run, so every list in it is bounded."""
    by_season = rows_by_season(rows)
    shared = shared_drives(rows)
    return {
        "seasons": capped(list(by_season)),
        "season_count": len(by_season),
        "races_per_season": capped({str(s): len(r) for s, r in by_season.items()}),
        "dagster/row_count": len(rows),
        "file_count": len(files),
        "files": capped([storage.uri(k) for k in files]),
        "source_versions": lineage.get("sources", {}),
        "manifest": MetadataValue.path(storage.uri(layout.manifest())),
        "shared_drive_races": markdown_table(
            shared[:METADATA_ITEMS], ("season", "round", "race_name", "winner_rows")
        ),
        "shared_drive_race_count": len(shared),
        "preview": markdown_table(rows[:5], _PREVIEW),
        "results_dir": MetadataValue.path(storage.uri(layout.RESULTS_PREFIX)),
    }
