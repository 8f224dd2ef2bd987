"""What is uploaded now: the source files' checksums, the upload's id, and the seasons it
holds (a quick look at races.csv, before any run: the run's season partitions must exist
when it is launched). Validation is the ingest's: a value that does not parse is skipped
here and refused there."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from f1_pipeline.core.holds import upload_id
from f1_pipeline.core.storage import ObjectNotFound, Storage, StorageError, layout
from f1_pipeline.core.transforms.reading import parse_header
from f1_pipeline.core.transforms.schema import FIRST_SEASON, RACES

SOURCE_KEYS = tuple(layout.source_csv(t) for t in layout.SOURCE_TABLES)
Listing = dict[str, str]  # source key -> checksum

_SEASON_SOURCE = next(f.source for f in RACES.fields if f.season)


@dataclass(frozen=True)
class Look:
    """What one read of the source objects saw: their checksums, and a time their newest
    write had finished by (epoch seconds; None when the read does not say)."""

    files: Listing
    written_by: float | None = None

    @property
    def upload(self) -> str | None:
        """The id of the upload the read shows (None while a file is missing)."""
        if set(self.files) != set(SOURCE_KEYS):
            return None
        return upload_id({t: self.files[layout.source_csv(t)] for t in layout.SOURCE_TABLES})


def look(storage: Storage) -> Look:
    """The source objects' checksums and last write, from one listing of ``source-data/``:
    the one reader of what is uploaded."""
    found = [o for o in storage.list(layout.SOURCE_PREFIX) if o.key in SOURCE_KEYS]
    dated = [o.written_by for o in found if o.written_by is not None]
    newest = max(dated) if dated and len(dated) == len(found) else None
    return Look({o.key: o.checksum for o in found}, newest)


def seasons_in(lines: Iterable[bytes], latest: int) -> list[int]:
    """The plausible seasons a races.csv names in its season column, sorted."""
    rows = iter(lines)
    header = parse_header(next(rows, b"").decode("utf-8", "replace"))
    if _SEASON_SOURCE not in header:
        return []
    column = header.index(_SEASON_SOURCE)
    found = set()
    text = (line.decode("utf-8", "replace") for line in rows)
    for row in csv.reader(text):
        value = row[column].strip() if len(row) > column else ""
        if value.isdigit() and FIRST_SEASON <= int(value) <= latest:
            found.add(int(value))
    return sorted(found)


def peek_seasons(storage: Storage, latest: int) -> list[int]:
    """The seasons the uploaded races.csv holds ([] when there is none)."""
    try:
        return seasons_in(storage.iter_lines(layout.source_csv("races")), latest)
    except ObjectNotFound:
        return []


def source_bytes(storage: Storage) -> int | None:
    """How much the current upload holds (the JIT a run's own JVM uses depends on it); None
    when a source file cannot be read."""
    try:
        return sum(storage.info(layout.source_csv(t)).size for t in layout.SOURCE_TABLES)
    except StorageError:
        return None
