"""Storage behind one interface: where source CSVs come from and outputs go."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from f1_pipeline.core.storage.base import (
    ObjectChanged,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    WriteConflict,
)
from f1_pipeline.core.storage.local import LocalStorage
from f1_pipeline.core.storage.root import S3Root

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
]


def open_storage(root: Path | S3Root, s3_client: Callable[[], Any]) -> Storage:
    """The storage at ``root``; ``s3_client`` builds the S3 client on first use (an S3 root
    makes no network call and needs no region until then)."""
    if isinstance(root, S3Root):
        from f1_pipeline.core.storage.s3 import S3Storage

        return S3Storage(s3_client, root.bucket, root.prefix)
    return LocalStorage(root)
