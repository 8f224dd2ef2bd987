"""The history of accepted uploads, append-only, and rolling back to one of them.

Every ingest that publishes a cleaned layer appends one record,
``cleaned/_history/<when>-<upload>.json`` (written once, never rewritten): the upload's id,
when, the seasons it changed, whether it was accepted automatically or by whom, the exact
source versions read, their content checksums (sha256), and where its source files are
kept — S3 versions on a versioned bucket, else ``archive/uploads/<upload>/`` (the last
``keep`` uploads' files; older copies are dropped, their records stay).

A rollback to upload A copies A's kept source files back to ``source-data/`` as the newest
versions (nothing deleted; on an unversioned bucket it is refused) and notes who asked, when
and from where (``cleaned/_rollbacks/<new upload>.json``). It is then an upload like any
other: checked, held if it would remove published data, accepted the same way. A restored
upload is recognised as A by its content: its history record names the earlier upload with
the same sha256s (a copy can change an object's ETag, never its bytes).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, ClassVar

from f1_pipeline.core.holds import upload_id
from f1_pipeline.core.lineage import Commit, Record, Source, now, read_json, write_json
from f1_pipeline.core.storage import LocalStorage, Storage, WriteConflict, layout

HISTORY_PREFIX = f"{layout.CLEANED_PREFIX}_history/"


class RollbackRefused(ValueError):
    """A rollback that cannot be done; the message says why, in one sentence."""


@dataclass(frozen=True)
class Upload(Record):
    """One accepted upload, as the history records it."""

    nested: ClassVar[dict[str, type[Record]]] = {"sources": Source}

    upload: str
    accepted_at: str
    ingest_run_id: str
    sources: dict[str, Source]
    content: dict[str, str]  # table -> sha256 of the bytes read
    seasons_changed: list[str] = field(default_factory=list)
    accepted_by: dict[str, Any] | None = None  # None: automatically (nothing held)
    kept_at: dict[str, str] = field(default_factory=dict)  # table -> where its file is kept
    same_content_as: str | None = None  # an earlier upload with these very bytes
    rollback: dict[str, Any] | None = None  # who asked for it, when, from where, of what


def history(storage: Storage) -> list[Upload]:
    """Every accepted upload, oldest first."""
    entries = [o.key for o in storage.list(HISTORY_PREFIX) if o.key.endswith(".json")]
    return [Upload.load(json.loads(storage.read_bytes(key))) for key in sorted(entries)]


def find(storage: Storage, upload: str) -> Upload:
    matches = [u for u in history(storage) if u.upload == upload]
    if not matches:
        raise RollbackRefused(f"upload {upload} is not in the history (`f1-pipeline history`)")
    return matches[-1]


def changed(before: Commit | None, after: Commit) -> list[str]:
    """The seasons an upload changed: new, gone, or with another fingerprint."""
    old = before.seasons if before else {}
    seasons = set(old) | set(after.seasons)
    return sorted((s for s in seasons
                   if (old[s].fingerprint if s in old else None) != after.fingerprint(s)),
                  key=int)  # fmt: skip


def _archive(storage: Storage, uid: str, table: str) -> str:
    return f"{layout.ARCHIVE_PREFIX}uploads/{uid}/{table}.csv"


def record(
    storage: Storage, entry: Upload, keep: int, earlier: list[Upload] | None = None
) -> Upload:
    """Append ``entry`` (its sources kept: S3 versions, else a copy under archive/ of the
    last ``keep`` uploads), naming an earlier upload with the same content and the rollback
    that asked for it, if any."""
    earlier = history(storage) if earlier is None else earlier
    kept = {}
    for table, source in entry.sources.items():
        if source.version_id:
            kept[table] = f"{storage.uri(source.key)}?versionId={source.version_id}"
        elif isinstance(storage, LocalStorage):
            kept[table] = storage.uri(storage.copy(source.key, _archive(storage, entry.upload,
                                                                       table)).key)  # fmt: skip
    same = next((u.upload for u in reversed(earlier) if u.content == entry.content), None)
    asked = read_json(storage, rollback_note(entry.upload))
    done = Upload.load({**entry.dump(), "kept_at": kept, "same_content_as": same,
                        "rollback": asked})  # fmt: skip
    stamp = done.accepted_at.replace("-", "").replace(":", "").replace("+0000", "Z")
    key = f"{HISTORY_PREFIX}{stamp}-{done.upload}.json"
    data = json.dumps(done.dump(), indent=2, sort_keys=True).encode()
    with suppress(WriteConflict):  # recorded already (a retried step): written once
        storage.write_bytes_if(key, data, None)
    _prune(storage, [*earlier, done], keep)
    return done


def _prune(storage: Storage, uploads: list[Upload], keep: int) -> None:
    """Drop the archived copies of all but the last ``keep`` uploads (their records stay)."""
    if not isinstance(storage, LocalStorage):
        return
    recent = {u.upload for u in uploads[-keep:]}
    for upload in {u.upload for u in uploads} - recent:
        storage.delete_prefix(f"{layout.ARCHIVE_PREFIX}uploads/{upload}/")


def rollback_note(upload: str) -> str:
    return f"{layout.CLEANED_PREFIX}_rollbacks/{upload}.json"


def restorable(storage: Storage, upload: str) -> Upload:
    """The upload's record, when its source files can be made current again;
    RollbackRefused saying why not, in one sentence."""
    entry = find(storage, upload)
    for table, source in entry.sources.items():
        if source.version_id or not isinstance(storage, LocalStorage):
            if not source.version_id:
                raise RollbackRefused(
                    f"rollback needs a versioned bucket, and {storage.uri('')} keeps no "
                    "versions (`f1-pipeline bootstrap` turns versioning on)"
                )
        elif not storage.exists(_archive(storage, upload, table)):
            raise RollbackRefused(
                f"upload {upload}'s source files are no longer kept (only the last "
                "F1_HISTORY_KEEP uploads' are, on a local root)"
            )
    return entry


def restore(storage: Storage, upload: str, by: Mapping[str, Any]) -> str:
    """Make ``upload`` current again: its kept source files copied back to source-data/ as
    the newest versions, the request noted; the id of the restored upload."""
    entry, written = restorable(storage, upload), {}
    for table, source in entry.sources.items():
        kept = (source.key, source.version_id) if source.version_id else (
            _archive(storage, upload, table), None)  # fmt: skip
        written[table] = storage.copy(kept[0], source.key, kept[1])
    restored = upload_id({t: info.checksum for t, info in written.items()})
    note = {"of": upload, "at": now(), "by": dict(by)}
    write_json(storage, rollback_note(restored), note)
    return restored
