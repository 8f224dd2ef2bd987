"""The records kept next to the data, typed, and read and written here only.

- ``cleaned/{table}.lineage.json``: the source object version a cleaned table was built from;
- :class:`Commit` (``cleaned/_season_fingerprints.json``), the cleaned layer's commit record,
  written last by each ingest: the upload, the sources read, the exact table versions
  published, the cleaning code, and per season a content fingerprint and a summary;
- :class:`Manifest` (``results/_manifest.json``): per season, what its published files were
  computed from (fingerprint, upload, sources, code), the run and the versions written — or,
  for a season that left the data, that it was withdrawn, by whose acceptance, and where its
  files are kept.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from f1_pipeline.core.storage import (
    ObjectInfo,
    ObjectNotFound,
    Storage,
    WriteConflict,
    layout,
)


class Record:
    """A dataclass written as JSON: nested records by their field's declared kind."""

    nested: ClassVar[dict[str, type[Record]]] = {}  # field -> the record type of its values

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> Self:
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: v for k, v in data.items() if k in known}
        for name, kind in cls.nested.items():
            if isinstance(values.get(name), Mapping):
                values[name] = {k: kind.load(v) for k, v in values[name].items()}
        return cls(**values)

    def dump(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


def read_json(storage: Storage, key: str) -> Any | None:
    """The JSON object at ``key``, or None when there is none yet."""
    try:
        return json.loads(storage.read_bytes(key))
    except ObjectNotFound:
        return None


def write_json(storage: Storage, key: str, value: Any) -> ObjectInfo:
    data = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return storage.write_bytes(key, data.encode("utf-8"))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Source(Record):
    """A source object exactly as read."""

    key: str
    uri: str
    checksum: str
    size: int
    version_id: str | None = None

    @classmethod
    def of(cls, storage: Storage, info: ObjectInfo) -> Source:
        return cls(info.key, storage.uri(info.key), info.checksum, info.size, info.version_id)


@dataclass(frozen=True)
class Table(Record):
    """A published cleaned table: exactly this version."""

    key: str
    checksum: str
    version_id: str | None = None
    rows: int | None = None

    def is_current(self, storage: Storage) -> bool:
        """Still the version published (false after an ingest was killed between publishing
        a table and writing the commit record)."""
        info = storage.find(self.key)
        if info is None:
            return False
        if self.version_id:
            return info.version_id == self.version_id
        return info.checksum == self.checksum


@dataclass(frozen=True)
class SeasonSummary(Record):
    """What a season holds: its content fingerprint (see transforms/fingerprints.py), races
    and results counted, its rounds, those with a winner, and the races that have results
    (round -> name; a record written before 0.2.0 has none)."""

    fingerprint: str
    races: int
    results: int
    rounds: list[int] = field(default_factory=list)
    winners: list[int] = field(default_factory=list)
    raced: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Commit(Record):
    """The cleaned layer's commit record."""

    nested: ClassVar[dict[str, type[Record]]] = {
        "sources": Source,
        "tables": Table,
        "seasons": SeasonSummary,
    }

    upload: str
    ingest_run_id: str
    ingested_at: str
    code_version: str
    sources: dict[str, Source]
    tables: dict[str, Table]
    seasons: dict[str, SeasonSummary]
    # Seasons whose withdrawal was accepted (carried from upload to upload until a season
    # comes back): who accepted, when, for which upload.
    withdrawals_accepted: dict[str, dict[str, Any]] = field(default_factory=dict)

    def checksums(self) -> dict[str, str]:
        """The source checksums it was built from, by source key."""
        return {source.key: source.checksum for source in self.sources.values()}

    def built_from(
        self, storage: Storage, checksums: Mapping[str, str], code: str | None = None
    ) -> bool:
        """The one answer to "is the cleaned layer built from this upload (its source
        checksums, by key) by this cleaning code (None: any)?": the ingest's and the
        sensors'. False while the tables are not the versions recorded."""
        return (
            (code is None or code == self.code_version)
            and self.checksums() == dict(checksums)
            and all(table.is_current(storage) for table in self.tables.values())
        )

    def fingerprint(self, season: str) -> str | None:
        summary = self.seasons.get(season)
        return summary.fingerprint if summary else None

    def season_list(self) -> list[int]:
        return sorted(int(s) for s in self.seasons)


def read_commit(storage: Storage) -> Commit | None:
    """The cleaned layer's commit record, or None before the first ingest."""
    data = read_json(storage, layout.season_fingerprints())
    return Commit.load(data) if data else None


def write_commit(storage: Storage, commit: Commit) -> ObjectInfo:
    return write_json(storage, layout.season_fingerprints(), commit.dump())


@dataclass(frozen=True)
class SeasonEntry(Record):
    """A season in the manifest: published (with what from) or withdrawn."""

    nested: ClassVar[dict[str, type[Record]]] = {"sources": Source}

    files: dict[str, str | None]  # key -> version written (None: withdrawn)
    sources: dict[str, Source]
    fingerprint: str | None = None
    upload: str | None = None
    code: dict[str, str | None] | None = None
    races: int | None = None
    results: int | None = None
    run_id: str = ""
    published_at: str = ""
    withdrawn: bool = False
    withdrawn_by_ingest: str | None = None
    accepted: dict[str, Any] | None = None
    kept_at: dict[str, str] | None = None


@dataclass(frozen=True)
class Manifest(Record):
    nested: ClassVar[dict[str, type[Record]]] = {"seasons": SeasonEntry}

    seasons: dict[str, SeasonEntry] = field(default_factory=dict)

    def published(self) -> list[str]:
        """Seasons published (and not withdrawn), oldest first."""
        return sorted((s for s, e in self.seasons.items() if not e.withdrawn), key=int)

    def withdrawn(self) -> list[str]:
        return sorted((s for s, e in self.seasons.items() if e.withdrawn), key=int)


def read_manifest(storage: Storage) -> Manifest:
    """The manifest (empty before anything is published)."""
    return Manifest.load(read_json(storage, layout.manifest()) or {})


_MANIFEST_ATTEMPTS = 20


def record_published(
    storage: Storage, entries: Mapping[str, SeasonEntry], run_id: str
) -> ObjectInfo:
    """Merge ``entries`` (per season) into the manifest. Season runs may overlap, so the
    read-modify-write is a conditional write, redone from a fresh read on conflict."""
    stamped = {s: {**e.dump(), "run_id": run_id, "published_at": now()} for s, e in entries.items()}
    key = layout.manifest()
    for _ in range(_MANIFEST_ATTEMPTS):
        try:
            checksum = storage.info(key).checksum
            manifest = json.loads(storage.read_bytes(key))
        except ObjectNotFound:
            checksum, manifest = None, {"seasons": {}}
        manifest["seasons"].update(stamped)
        data = json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False).encode()
        try:
            return storage.write_bytes_if(key, data, checksum)
        except WriteConflict:
            time.sleep(random.uniform(0.05, 0.3))
    raise WriteConflict(f"{storage.uri(key)}: still changing after {_MANIFEST_ATTEMPTS} attempts")
