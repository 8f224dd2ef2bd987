"""Storage behind one interface: where source CSVs come from and outputs go."""

from __future__ import annotations

from pathlib import Path

from f1_pipeline.core.storage.base import (
    ObjectChanged,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    WriteConflict,
)
from f1_pipeline.core.storage.local import LocalStorage
from f1_pipeline.core.storage.root import S3Root, parse_data_root

__all__ = [
    "LocalStorage",
    "ObjectChanged",
    "ObjectInfo",
    "ObjectNotFound",
    "S3Root",
    "Storage",
    "StorageError",
    "WriteConflict",
    "open_storage",
    "parse_data_root",
]


def open_storage(root: Path | S3Root) -> Storage:
    """The storage at ``root``; an S3 root builds its client on first use (no network call
    and no region needed until then)."""
    if isinstance(root, S3Root):
        from f1_pipeline.core.aws import aws_client
        from f1_pipeline.core.storage.s3 import S3Storage

        return S3Storage(lambda: aws_client("s3"), root.bucket, root.prefix)
    return LocalStorage(root)
