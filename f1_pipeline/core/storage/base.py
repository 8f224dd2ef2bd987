"""The storage interface shared by every backend."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path


class StorageError(RuntimeError):
    """A storage operation failed; the message names the object."""


class ObjectNotFound(StorageError):
    """The object does not exist; the message names it."""


class WriteConflict(StorageError):
    """A conditional write found the object changed since it was read."""


class ObjectChanged(StorageError):
    """An object changed while it was being read (a local root keeps no versions to pin).
    Transient: reading it again gives a consistent copy."""


@dataclass(frozen=True)
class ObjectInfo:
    """What the pipeline needs to know about a stored object.

    ``checksum`` identifies the content (sha256 locally, the ETag on S3);
    ``version`` identifies this exact object version: the S3 VersionId where the
    bucket is versioned, otherwise the checksum. ``written_by``: a time (epoch seconds) the
    write had finished by — S3's LastModified plus its one-second resolution, a local file's
    modification time — when the backend reports one. Never an identity (two writes in the
    same second differ by checksum only), and never part of equality: only how long ago the
    object last changed.
    """

    key: str
    size: int
    checksum: str
    version_id: str | None = None
    written_by: float | None = field(default=None, compare=False)

    @property
    def version(self) -> str:
        return self.version_id or self.checksum


class Storage(abc.ABC):
    """A root holding ``source-data/``, ``cleaned/`` and ``results/``.

    Writes are atomic: a reader sees the previous object or the new one, never
    a partial one, and a failed write leaves the previous object in place.
    """

    # How many writes of many small objects are worth running at once: network stores
    # gain from overlapping round trips; a local file system (Python's GIL) does not.
    write_concurrency = 1

    @abc.abstractmethod
    def uri(self, key: str) -> str:
        """A human-readable location for ``key`` (used in messages and metadata)."""

    def find(self, key: str) -> ObjectInfo | None:
        """:meth:`info` of ``key``, or None when it is missing."""
        try:
            return self.info(key)
        except ObjectNotFound:
            return None

    def exists(self, key: str) -> bool:
        """Whether ``key`` is there (through :meth:`find`; backends may check cheaper)."""
        return self.find(key) is not None

    @abc.abstractmethod
    def info(self, key: str, version_id: str | None = None) -> ObjectInfo:
        """Size, checksum and version of ``key`` (that version, where the backend keeps
        versions); ObjectNotFound if it is missing."""

    @abc.abstractmethod
    def list(self, prefix: str) -> list[ObjectInfo]:
        """Objects whose key starts with ``prefix``, sorted by key. Cheap: no
        ``version_id`` here even where :meth:`info` has one."""

    @abc.abstractmethod
    def read_bytes(self, key: str) -> bytes: ...

    @abc.abstractmethod
    def write_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Atomically replace ``key`` with ``data``."""

    @abc.abstractmethod
    def write_bytes_if(self, key: str, data: bytes, expected_checksum: str | None) -> ObjectInfo:
        """Write only if ``key`` still has ``expected_checksum`` (None: only if it does not
        exist yet); WriteConflict otherwise. For read-modify-write of shared records."""

    @abc.abstractmethod
    def publish_file(self, local_path: Path, key: str) -> ObjectInfo:
        """Atomically replace ``key`` with the content of a local file."""

    @abc.abstractmethod
    def local_copy(
        self, key: str, version_id: str | None = None
    ) -> AbstractContextManager[tuple[Path, ObjectInfo]]:
        """A private local copy of ``key`` (that version, where the backend keeps versions)
        and what it holds, for the local Spark session: what Spark reads (perhaps more than
        once) cannot change underneath it, and the info says exactly what was read."""

    @abc.abstractmethod
    def delete(self, key: str) -> bool:
        """Remove ``key`` from view (on a versioned bucket its versions stay); False when
        there was nothing to delete."""

    @abc.abstractmethod
    def withdraw(self, key: str, archive_key: str) -> str | None:
        """Take a published object out of view without losing it: on a versioned bucket a
        delete marker (every version stays readable), on a local root a move to
        ``archive_key``. Returns where the old content stays, or None when there was
        nothing to withdraw."""

    @abc.abstractmethod
    def copy(self, src: str, dst: str, version_id: str | None = None) -> ObjectInfo:
        """Atomically replace ``dst`` with ``src`` (that version, when given), without
        moving the bytes through this process where the backend can."""

    @abc.abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix``; return how many. For scratch space only."""

    def iter_lines(self, key: str) -> Iterator[bytes]:
        """The object's lines; backends may override to stream."""
        yield from self.read_bytes(key).splitlines()

    def iter_chunks(self, key: str, version_id: str | None = None) -> Iterator[bytes]:
        """The object's bytes in chunks (that version, when given); backends stream."""
        yield self.read_bytes(key)
