"""Lineage records kept next to the data: which source versions made which outputs.

- ``cleaned/{table}.lineage.json``: the source object version a cleaned table was built from;
- ``cleaned/_season_fingerprints.json``: per-season content fingerprints, and the sources;
- ``results/_manifest.json``: per published season, the fingerprint and source versions it
  was computed from, the run, and the versions of the files written.

A season is stale when its current fingerprint differs from the manifest's.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from f1_pipeline.core.storage import ObjectInfo, ObjectNotFound, Storage, WriteConflict, layout


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


_MANIFEST_ATTEMPTS = 20


def record_published(
    storage: Storage, entries: Mapping[str, Mapping[str, Any]], run_id: str
) -> ObjectInfo:
    """Merge ``entries`` (per season) into the manifest. Season runs may overlap, so the
    read-modify-write is a conditional write, redone from a fresh read on conflict."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    key = layout.manifest()
    for _ in range(_MANIFEST_ATTEMPTS):
        try:
            checksum = storage.info(key).checksum
            manifest = json.loads(storage.read_bytes(key))
        except ObjectNotFound:
            checksum, manifest = None, {"seasons": {}}
        for season, entry in entries.items():
            manifest["seasons"][season] = {**entry, "run_id": run_id, "published_at": now}
        data = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
        try:
            return storage.write_bytes_if(key, data, checksum)
        except WriteConflict:
            time.sleep(random.uniform(0.05, 0.3))
    raise WriteConflict(f"{storage.uri(key)}: still changing after {_MANIFEST_ATTEMPTS} attempts")
