"""The stats step: per-season ``results/stats_{year}.json`` (the contract) and Parquet tables.

Rows are computed by Spark; every file is rendered before any is written, then the manifest
records what each season was computed from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from f1_pipeline.core.contract import contract_json, rows_by_season, season_table_parquet
from f1_pipeline.core.lineage import read_json, record_published
from f1_pipeline.core.steps.base import StepContext, StepResult
from f1_pipeline.core.steps.metadata import METADATA_ITEMS, capped, markdown_table, path
from f1_pipeline.core.storage import ObjectInfo, Storage, layout
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.stats import race_stats

SEASON_STATS = "results/season_stats"


def season_stats_step(ctx: StepContext, params: Mapping[str, Any]) -> StepResult:
    """``params["seasons"]``: the seasons (partition keys) to compute and publish."""
    storage = ctx.storage
    seasons = sorted(int(s) for s in params["seasons"])
    if not seasons:
        raise ValueError("the season stats step needs at least one season")
    # Read before the tables: fingerprints describe the cleaned tables they sit beside.
    lineage = read_json(storage, layout.season_fingerprints()) or {}
    with (
        ctx.io.input(layout.cleaned_parquet("races")) as races_path,
        ctx.io.input(layout.cleaned_parquet("results")) as results_path,
    ):
        races = ctx.session.read.parquet(races_path)
        results = ctx.session.read.parquet(results_path)
        rows = [r.asDict() for r in race_stats(races, results, seasons).collect()]
    by_season = rows_by_season(rows)
    missing = [s for s in seasons if s not in by_season]
    if missing:
        raise InvalidInputError(
            storage.uri(layout.cleaned_parquet("races")), f"season(s) {missing} have no races"
        )
    files = publish_season_files(storage, by_season, lineage, ctx.run_id)
    for race in shared_drives(rows):
        ctx.log.warning(
            f"{race['season']} round {race['round']} ({race['race_name']}): "
            f"{race['winner_rows']} position-1 rows (shared drive); winner taken from the "
            "lowest resultId"
        )
    ctx.log.info(f"published {len(files)} files for {len(seasons)} season(s)")
    return StepResult(
        SEASON_STATS, stats_metadata(storage, rows, files, lineage), {"seasons": seasons}
    )


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
        "manifest": path(storage.uri(layout.manifest())),
        "shared_drive_races": markdown_table(
            shared[:METADATA_ITEMS], ("season", "round", "race_name", "winner_rows")
        ),
        "shared_drive_race_count": len(shared),
        "preview": markdown_table(rows[:5], _PREVIEW),
        "results_dir": path(storage.uri(layout.RESULTS_PREFIX)),
    }
