"""How a Spark session reaches the storage root: the one seam between local mode and Glue.

- :class:`LocalStagedIO` (local mode, and the local Glue stand-in): the session reads and
  writes local files only. Inputs are downloaded (the exact object version), outputs are
  written to a private temporary directory and uploaded once complete.
- :class:`DirectIO` (Glue): the session reads and writes the root itself (``s3://`` through
  Glue's S3 filesystem; a plain path for a local root). Inputs are first copied server-side
  to a run-private staging prefix, pinning the version read; outputs are written under that
  prefix and published by a server-side copy, so readers never see a partial file. On a
  multi-node cluster this is the only correct choice: executors cannot read the driver's disk.
"""

from __future__ import annotations

import abc
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from pyspark.sql import DataFrame

from f1_pipeline.core.storage import ObjectChanged, ObjectInfo, Storage, layout


@dataclass(frozen=True)
class Pinned:
    """An input as Spark will read it: ``spark_path``, a private copy that cannot change
    while Spark reads it (perhaps more than once), and ``info``, exactly what it holds."""

    spark_path: str
    info: ObjectInfo
    _chunks: Callable[[], Iterator[bytes]]

    def chunks(self) -> Iterator[bytes]:
        """The copy's bytes, for checks Spark cannot do (the encoding)."""
        return self._chunks()


def _file_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            yield chunk


class StagedFile(abc.ABC):
    """A complete output written by Spark, not yet published."""

    spark_path: str

    @abc.abstractmethod
    def publish(self, key: str) -> ObjectInfo:
        """Atomically replace ``key`` with this file."""


class SparkIO(abc.ABC):
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @abc.abstractmethod
    def input(self, key: str, version_id: str | None = None) -> AbstractContextManager[Pinned]:
        """``key`` (that version, when given; else the current one, pinned) where the session
        can read it."""

    @abc.abstractmethod
    def output(self, df: DataFrame, name: str) -> AbstractContextManager[StagedFile]:
        """Write ``df`` as one Parquet file; yield a :class:`StagedFile`. Unpublished output
        is removed on exit."""


def _single_part(names: list[str], where: str) -> str:
    parts = [
        n for n in names if n.rsplit("/", 1)[-1].startswith("part-") and n.endswith(".parquet")
    ]
    if len(parts) != 1:
        raise RuntimeError(f"expected one Parquet part in {where}, found {len(parts)}")
    return parts[0]


class _LocalFile(StagedFile):
    def __init__(self, storage: Storage, path: Path) -> None:
        self.storage, self.path, self.spark_path = storage, path, str(path)

    def publish(self, key: str) -> ObjectInfo:
        return self.storage.publish_file(self.path, key)


class LocalStagedIO(SparkIO):
    @contextmanager
    def input(self, key: str, version_id: str | None = None) -> Iterator[Pinned]:
        with self.storage.local_copy(key, version_id) as (path, info):
            yield Pinned(str(path), info, lambda: _file_chunks(path))

    @contextmanager
    def output(self, df: DataFrame, name: str) -> Iterator[StagedFile]:
        with tempfile.TemporaryDirectory(prefix="f1-staging-") as tmp:
            out = Path(tmp) / name
            df.coalesce(1).write.mode("overwrite").parquet(str(out))
            part = _single_part([str(p) for p in out.glob("part-*.parquet")], str(out))
            yield _LocalFile(self.storage, Path(part))


class _StoredFile(StagedFile):
    def __init__(self, storage: Storage, key: str) -> None:
        self.storage, self.key, self.spark_path = storage, key, storage.uri(key)

    def publish(self, key: str) -> ObjectInfo:
        return self.storage.copy(self.key, key)


class DirectIO(SparkIO):
    def __init__(self, storage: Storage, token: str | None = None) -> None:
        super().__init__(storage)
        self.prefix = layout.staging_prefix(token or uuid.uuid4().hex)

    @contextmanager
    def input(self, key: str, version_id: str | None = None) -> Iterator[Pinned]:
        staged = f"{self.prefix}{key}"
        try:
            source = self.storage.info(key, version_id)
            self.storage.copy(key, staged, source.version_id)
            if source.version_id is None and self.storage.info(staged).checksum != source.checksum:
                # No versions to pin (a local root): the object changed between the two reads.
                raise ObjectChanged(f"{self.storage.uri(key)}: changed while being read")
            yield Pinned(
                self.storage.uri(staged),
                source,
                lambda: self.storage.iter_chunks(staged),
            )
        finally:
            self.storage.delete_prefix(staged)

    @contextmanager
    def output(self, df: DataFrame, name: str) -> Iterator[StagedFile]:
        prefix = f"{self.prefix}{name}/"
        try:
            df.coalesce(1).write.mode("overwrite").parquet(self.storage.uri(prefix))
            keys = [o.key for o in self.storage.list(prefix)]
            yield _StoredFile(self.storage, _single_part(keys, self.storage.uri(prefix)))
        finally:
            self.storage.delete_prefix(prefix)
            for marker in layout.folder_markers(prefix):
                self.storage.delete(marker)
