"""Where a storage root is: a local directory or an S3 location."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# What the storage resource reads (f1_pipeline.defs.resources.StorageResource), named once.
DATA_ROOT_VAR, DATA_ROOT_DEFAULT = "F1_DATA_ROOT", "data"


@dataclass(frozen=True)
class S3Root:
    """``s3://bucket[/prefix]``; ``prefix`` is empty or ends with ``/``."""

    bucket: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def parse_data_root(value: str) -> Path | S3Root:
    """A data root: ``s3://bucket[/prefix]`` or a local directory (made absolute)."""
    value = value.strip()
    if not value:
        raise ValueError("set but empty; unset it to use ./data")
    if value.startswith("s3://"):
        bucket, _, prefix = value[len("s3://") :].partition("/")
        if not _BUCKET.match(bucket) or ".." in bucket:
            raise ValueError(f"{bucket!r} is not a valid S3 bucket name")
        prefix = prefix.strip("/")
        return S3Root(bucket=bucket, prefix=f"{prefix}/" if prefix else "")
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise ValueError(
            f"storage scheme {scheme!r} is not supported; use a local directory or "
            "s3://bucket[/prefix]"
        )
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ValueError("exists but is not a directory")
    return path
