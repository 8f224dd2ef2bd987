"""Lineage records kept next to the data: which source versions made which outputs.

- ``cleaned/{table}.lineage.json``: the source object version a cleaned table was built from;
- ``cleaned/_season_fingerprints.json``: per-season content fingerprints, and the sources;
- ``results/_manifest.json``: per published season, the fingerprint and source versions it
  was computed from, the run, and the versions of the files written.

A season is stale when its current fingerprint differs from the manifest's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from f1_pipeline.storage import ObjectInfo, ObjectNotFound, Storage, layout


def source_record(storage: Storage, info: ObjectInfo) -> dict[str, Any]:
    return {
        "key": info.key,
        "uri": storage.uri(info.key),
        "version_id": info.version_id,
        "checksum": info.checksum,
        "size": info.size,
    }


def read_json(storage: Storage, key: str) -> Any | None:
    """The JSON object at ``key``, or None when there is none yet."""
    try:
        return json.loads(storage.read_bytes(key))
    except ObjectNotFound:
        return None


def write_json(storage: Storage, key: str, value: Any) -> ObjectInfo:
    data = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return storage.write_bytes(key, data.encode("utf-8"))


def stale_seasons(fingerprints: Mapping[str, str], manifest: Mapping[str, Any]) -> list[str]:
    """Seasons whose data changed (or that were never published), oldest first."""
    published = manifest.get("seasons", {})
    return sorted(
        (s for s, fp in fingerprints.items() if published.get(s, {}).get("fingerprint") != fp),
        key=int,
    )


def record_published(
    storage: Storage, entries: Mapping[str, Mapping[str, Any]], run_id: str
) -> ObjectInfo:
    """Merge ``entries`` (per season) into the manifest. Runs that publish seasons are
    serialised by the sensors, so read-modify-write is safe here."""
    manifest = read_json(storage, layout.manifest()) or {"seasons": {}}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for season, entry in entries.items():
        manifest["seasons"][season] = {**entry, "run_id": run_id, "published_at": now}
    return write_json(storage, layout.manifest(), manifest)
