"""Publishing computed seasons: render every file first, then write, then the manifest."""

from collections.abc import Mapping, Sequence
from typing import Any

from f1_pipeline.contract import contract_json, season_table_parquet
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
