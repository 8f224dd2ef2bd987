"""Lineage records kept next to the data: which source versions made which outputs.

- ``cleaned/{table}.lineage.json``: the source object version a cleaned table was built from;
- ``cleaned/_season_fingerprints.json``, the cleaned layer's commit record, written last by
  each ingest: the sources read, the exact table versions published, and per-season
  content fingerprints;
- ``results/_manifest.json``: per season, the fingerprint and source versions of the data a
  run actually read, the run, and the versions of the files written — or, for a season
  that disappeared from the data, that it was withdrawn and by which upload.

A season is stale when its current fingerprint (or the code) differs from the manifest's
(see :func:`f1_pipeline.core.steps.stats.stale_seasons`).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from f1_pipeline.core.storage import (
    ObjectChanged,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    WriteConflict,
    layout,
)


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


def read_commit(storage: Storage) -> dict[str, Any] | None:
    """The cleaned layer's commit record, or None before the first ingest."""
    return read_json(storage, layout.season_fingerprints())


def table_key(tables: Mapping[str, Any], table: str) -> str:
    """Where the commit record's ``tables`` say ``table`` is (roots from before table
    folders name the old key), else where this version writes it."""
    return str((tables.get(table) or {}).get("key") or layout.cleaned_parquet(table))


def check_table(storage: Storage, commit: Mapping[str, Any], table: str, read: ObjectInfo) -> None:
    """The table copy a reader got (``read``) must be the version the commit record names;
    otherwise an ingest is publishing (or was killed while publishing): ObjectChanged, a
    transient failure. Records from before versions were kept name none: accepted."""
    wanted = commit.get("tables", {}).get(table)
    if wanted is not None and read.checksum != wanted["checksum"]:
        raise ObjectChanged(
            f"{storage.uri(read.key)} is not the version the cleaned "
            "layer's commit record names (an ingest is publishing, or was interrupted)"
        )


def tables_match(storage: Storage, commit: Mapping[str, Any]) -> bool:
    """Whether the published cleaned tables are the versions the commit record names (false
    after an ingest was killed between publishing a table and writing the record)."""
    for record in (commit.get("tables") or {}).values():
        try:
            info = storage.info(record["key"])
        except ObjectNotFound:
            return False
        if record.get("version_id"):
            if info.version_id != record["version_id"]:
                return False
        elif info.checksum != record["checksum"]:
            return False
    return True


def published_seasons(manifest: Mapping[str, Any]) -> list[str]:
    """Seasons the manifest has published (and not withdrawn), oldest first."""
    return sorted(
        (s for s, e in manifest.get("seasons", {}).items() if not e.get("withdrawn")), key=int
    )


def withdrawn_seasons(manifest: Mapping[str, Any]) -> list[str]:
    return sorted(
        (s for s, e in manifest.get("seasons", {}).items() if e.get("withdrawn")), key=int
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
