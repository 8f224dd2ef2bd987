"""Moving data between the storage root and the local Spark session.

The local session reads and writes local files only, so outputs are written
to a private staging directory first and published to storage once complete.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import DataFrame


@contextmanager
def staging_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="f1-staging-") as tmp:
        yield Path(tmp)


def write_single_parquet(df: DataFrame, directory: Path, name: str) -> Path:
    """Write ``df`` as one Parquet file in ``directory``; return its path."""
    out = directory / name
    df.coalesce(1).write.mode("overwrite").parquet(str(out))
    parts = sorted(out.glob("part-*.parquet"))
    if len(parts) != 1:
        raise RuntimeError(f"expected one Parquet part in {out}, found {len(parts)}")
    return parts[0]
