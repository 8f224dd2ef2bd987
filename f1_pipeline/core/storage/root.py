"""Where a storage root is: a local directory or an S3 location."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class S3Root:
    """``s3://bucket[/prefix]``; ``prefix`` is empty or ends with ``/``."""

    bucket: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"
