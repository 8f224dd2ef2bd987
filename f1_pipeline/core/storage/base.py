"""The storage interface shared by every backend."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path


class StorageError(RuntimeError):
    """A storage operation failed; the message names the object."""


class ObjectNotFound(StorageError):
    """The object does not exist; the message names it."""


class WriteConflict(StorageError):
    """A conditional write found the object changed since it was read."""


@dataclass(frozen=True)
class ObjectInfo:
    """What the pipeline needs to know about a stored object.

    ``checksum`` identifies the content (sha256 locally, the ETag on S3);
    ``version`` identifies this exact object version: the S3 VersionId where the
    bucket is versioned, otherwise the checksum.
    """

    key: str
    size: int
    checksum: str
    version_id: str | None = None

    @property
    def version(self) -> str:
        return self.version_id or self.checksum


class Storage(abc.ABC):
    """A root holding ``source-data/``, ``cleaned/`` and ``results/``.

    Writes are atomic: a reader sees the previous object or the new one, never
    a partial one, and a failed write leaves the previous object in place.
    """

    @abc.abstractmethod
    def uri(self, key: str) -> str:
        """A human-readable location for ``key`` (used in messages and metadata)."""

    @abc.abstractmethod
    def exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def info(self, key: str) -> ObjectInfo:
        """Size, checksum and version of ``key``; ObjectNotFound if it is missing."""

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
    def local_copy(self, key: str, version_id: str | None = None) -> AbstractContextManager[Path]:
        """A local file path holding ``key``'s content (that version, where the backend
        keeps versions), for the local Spark session.

        Backends that already store locally hand out the object itself.
        """

    @abc.abstractmethod
    def spark_uri(self, key: str) -> str:
        """Where a Spark session reading the root directly finds ``key`` (a path locally,
        ``s3://`` on S3, which Glue's Spark reads natively and local pyspark cannot)."""

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
