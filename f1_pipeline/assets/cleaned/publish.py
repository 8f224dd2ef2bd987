"""The cleaned layer's shared flow: clean into staging, check, then publish."""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster import AssetCheckResult
from pyspark.sql import DataFrame, SparkSession

from f1_pipeline.assets.cleaned.checks import fail_on_failed_checks
from f1_pipeline.assets.failures import bad_input_fails_run
from f1_pipeline.assets.metadata import dataframe_metadata, object_metadata
from f1_pipeline.staging import staging_dir, write_single_parquet
from f1_pipeline.storage import Storage, layout
from f1_pipeline.transforms.reading import LINE

Cleaner = Callable[[SparkSession, str, str], DataFrame]


@contextmanager
def staged_clean_table(
    storage: Storage, session: SparkSession, table: str, clean: Cleaner
) -> Iterator[tuple[DataFrame, Path]]:
    """Clean ``source-data/{table}.csv`` into a staged Parquet file; yield it read back
    (for checks) and its path. Bad input becomes a non-retryable Failure."""
    source = layout.source_csv(table)
    with bad_input_fails_run(), storage.local_copy(source) as path, staging_dir() as tmp:
        cleaned = clean(session, str(path), storage.uri(source))
        staged = write_single_parquet(cleaned, tmp, table)
        yield session.read.parquet(str(staged)), staged


def publish_checked(
    storage: Storage,
    table: str,
    df: DataFrame,
    staged: Path,
    checks: Sequence[AssetCheckResult],
) -> dict[str, Any]:
    """Publish the staged table as ``cleaned/{table}.parquet`` if every check passed;
    return its materialisation metadata."""
    fail_on_failed_checks(storage.uri(layout.source_csv(table)), checks)
    metadata = dataframe_metadata(df.drop(LINE), df.count())
    info = storage.publish_file(staged, layout.cleaned_parquet(table))
    return {**metadata, **object_metadata(storage, info)}
