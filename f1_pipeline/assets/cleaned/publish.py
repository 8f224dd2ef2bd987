"""The cleaned layer's shared flow: clean into staging, check, then publish."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagster import AssetCheckResult
from pyspark.sql import DataFrame, SparkSession

from f1_pipeline.assets.cleaned.checks import fail_on_failed_checks
from f1_pipeline.assets.metadata import dataframe_metadata, object_metadata
from f1_pipeline.lineage import source_record, write_json
from f1_pipeline.staging import staging_dir, write_single_parquet
from f1_pipeline.storage import ObjectInfo, Storage, layout
from f1_pipeline.transforms.reading import LINE

Cleaner = Callable[[SparkSession, str, str], DataFrame]


@dataclass(frozen=True)
class StagedTable:
    table: str
    df: DataFrame  # the staged Parquet, read back
    path: Path
    source: ObjectInfo  # the exact source object version it was built from


@contextmanager
def staged_clean_table(
    storage: Storage, session: SparkSession, table: str, clean: Cleaner
) -> Iterator[StagedTable]:
    """Clean ``source-data/{table}.csv`` (the exact version read is recorded) into a staged
    Parquet file and yield it."""
    key = layout.source_csv(table)
    source = storage.info(key)
    with storage.local_copy(key, source.version_id) as path, staging_dir() as tmp:
        cleaned = clean(session, str(path), storage.uri(key))
        staged = write_single_parquet(cleaned, tmp, table)
        yield StagedTable(table, session.read.parquet(str(staged)), staged, source)


def publish_checked(
    storage: Storage, staged: StagedTable, checks: Sequence[AssetCheckResult]
) -> dict[str, Any]:
    """Publish the staged table as ``cleaned/{table}.parquet`` (and its lineage record) if
    every check passed; return its materialisation metadata."""
    fail_on_failed_checks(storage.uri(staged.source.key), checks)
    metadata = dataframe_metadata(staged.df.drop(LINE), staged.df.count())
    info = storage.publish_file(staged.path, layout.cleaned_parquet(staged.table))
    source = source_record(storage, staged.source)
    write_json(storage, layout.cleaned_lineage(staged.table), {"source": source})
    return {**metadata, **object_metadata(storage, info), "source": source}
