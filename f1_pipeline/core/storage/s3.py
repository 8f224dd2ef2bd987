"""An S3 bucket (optionally under a prefix) as the storage root.

Works with any S3-compatible endpoint. Every object write is a single PUT, which
S3 makes visible atomically: readers see the old object or the new one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from f1_pipeline.core.storage.base import (
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    WriteConflict,
)

_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchVersion"}

# S3 reports LastModified in whole seconds: a write it dates to second s ended before s + 1.
LAST_MODIFIED_RESOLUTION = 1.0


def _info(
    key: str, size: int, etag: str, version_id: str | None, modified: datetime | None = None
) -> ObjectInfo:
    # Unversioned buckets report the literal version id "null".
    real_id = version_id if version_id and version_id != "null" else None
    written_by = modified.timestamp() + LAST_MODIFIED_RESOLUTION if modified else None
    return ObjectInfo(
        key=key, size=size, checksum=etag.strip('"'), version_id=real_id, written_by=written_by
    )


class S3Storage(Storage):
    """Objects under ``s3://bucket/prefix``. The client is built on first use, so
    constructing the storage makes no network call and needs no region."""

    write_concurrency = 8  # PUTs in flight at once (the client's pool holds 16)

    def __init__(self, client_factory: Callable[[], Any], bucket: str, prefix: str = "") -> None:
        self._client_factory = client_factory
        self.bucket = bucket
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"S3Storage('s3://{self.bucket}/{self.prefix}')"

    @cached_property
    def client(self) -> Any:
        return self._client_factory()

    def _key(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    def _get_args(self, key: str, version_id: str | None = None) -> dict[str, str]:
        args = {"Bucket": self.bucket, "Key": self._key(key)}
        return {**args, "VersionId": version_id} if version_id else args

    @contextmanager
    def _found(self, key: str) -> Iterator[None]:
        """A missing ``key`` (or version) in the block is an ObjectNotFound naming it."""
        try:
            yield
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in _MISSING:
                raise ObjectNotFound(f"{self.uri(key)}: object not found") from err
            raise

    def info(self, key: str, version_id: str | None = None) -> ObjectInfo:
        with self._found(key):
            head = self.client.head_object(**self._get_args(key, version_id))
        size, etag, modified = head["ContentLength"], head["ETag"], head.get("LastModified")
        return _info(key, size, etag, head.get("VersionId"), modified)

    def list(self, prefix: str) -> list[ObjectInfo]:
        paginator = self.client.get_paginator("list_objects_v2")
        found = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            for obj in page.get("Contents", []):
                key = obj["Key"][len(self.prefix) :]
                found.append(_info(key, obj["Size"], obj["ETag"], None, obj.get("LastModified")))
        return sorted(found, key=lambda o: o.key)

    def _body(self, key: str, version_id: str | None = None) -> Any:
        with self._found(key):
            return self.client.get_object(**self._get_args(key, version_id))["Body"]

    def read_bytes(self, key: str) -> bytes:
        return self._body(key).read()

    def iter_chunks(self, key: str, version_id: str | None = None) -> Iterator[bytes]:
        yield from self._body(key, version_id).iter_chunks(1 << 20)

    def iter_lines(self, key: str) -> Iterator[bytes]:
        yield from self._body(key).iter_lines(keepends=True)

    def delete(self, key: str) -> bool:
        if not self.exists(key):
            return False
        # On a versioned bucket this adds a delete marker: every version stays readable.
        self.client.delete_object(**self._get_args(key))
        return True

    def withdraw(self, key: str, archive_key: str) -> str | None:
        current = self.find(key)
        if current is None:
            return None
        # A delete marker on a versioned bucket (bootstrap turns versioning on): the version
        # withdrawn stays readable by its id. An unversioned bucket keeps no versions: the
        # object is copied to the archive first.
        kept = f"{self.uri(key)}?versionId={current.version_id}"
        if current.version_id is None:
            kept = self.uri(self.copy(key, archive_key).key)
        self.client.delete_object(**self._get_args(key))
        return kept

    def _put(self, key: str, body: Any, size: int, **condition: str) -> ObjectInfo:
        put = self.client.put_object(**self._get_args(key), Body=body, **condition)
        return _info(key, size, put["ETag"], put.get("VersionId"))

    def write_bytes(self, key: str, data: bytes) -> ObjectInfo:
        return self._put(key, data, len(data))

    def write_bytes_if(self, key: str, data: bytes, expected_checksum: str | None) -> ObjectInfo:
        # S3 conditional writes: If-Match on the ETag, or If-None-Match for "must not exist".
        condition = {"IfMatch": expected_checksum} if expected_checksum else {"IfNoneMatch": "*"}
        try:
            return self._put(key, data, len(data), **condition)
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code in {"PreconditionFailed", "ConditionalRequestConflict", *_MISSING}:
                raise WriteConflict(f"{self.uri(key)}: changed since it was read") from err
            raise

    def publish_file(self, local_path: Path, key: str) -> ObjectInfo:
        with local_path.open("rb") as body:
            return self._put(key, body, local_path.stat().st_size)

    def copy(self, src: str, dst: str, version_id: str | None = None) -> ObjectInfo:
        source = self._get_args(src, version_id)
        with self._found(src):
            size = self.client.head_object(**source)["ContentLength"]
        done = self.client.copy_object(CopySource=source, **self._get_args(dst))
        return _info(dst, size, done["CopyObjectResult"]["ETag"], done.get("VersionId"))

    def delete_prefix(self, prefix: str) -> int:
        keys = [self._key(o.key) for o in self.list(prefix)]
        failed = []
        for start in range(0, len(keys), 1000):
            batch = [{"Key": k} for k in keys[start : start + 1000]]
            done = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            # DeleteObjects answers 200 even when keys were refused: each one is in Errors.
            failed += [f"{e.get('Key')} ({e.get('Code')})" for e in done.get("Errors", [])]
        if failed:
            raise StorageError(
                f"s3://{self.bucket}/{self.prefix}{prefix}: {len(failed)} object(s) not deleted: "
                + ", ".join(failed[:5])
            )
        return len(keys)

    @contextmanager
    def local_copy(
        self, key: str, version_id: str | None = None
    ) -> Iterator[tuple[Path, ObjectInfo]]:
        # Pin the version first, then download exactly that one.
        info = self.info(key, version_id)
        with tempfile.TemporaryDirectory(prefix="f1-s3-") as tmp:
            path = Path(tmp) / Path(key).name
            extra = {"VersionId": info.version_id} if info.version_id else None
            with self._found(key):
                self.client.download_file(self.bucket, self._key(key), str(path), ExtraArgs=extra)
            yield path, info
