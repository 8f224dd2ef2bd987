"""Storage behind one interface: where source CSVs come from and outputs go."""

from f1_pipeline.storage.base import (
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    WriteConflict,
)
from f1_pipeline.storage.local import LocalStorage

__all__ = [
    "LocalStorage",
    "ObjectInfo",
    "ObjectNotFound",
    "Storage",
    "StorageError",
    "WriteConflict",
]
