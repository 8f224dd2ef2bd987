"""The cleaned layer's steps: clean into staging, check, then publish."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from f1_pipeline.core.lineage import read_json, source_record, write_json
from f1_pipeline.core.steps.base import CheckOutcome, StepContext, StepResult
from f1_pipeline.core.steps.checks import check_outcome, fail_on_failed_checks
from f1_pipeline.core.steps.io import StagedFile
from f1_pipeline.core.steps.metadata import capped, dataframe_metadata, object_metadata
from f1_pipeline.core.storage import ObjectInfo, layout
from f1_pipeline.core.transforms.cleaning import clean_races, clean_results
from f1_pipeline.core.transforms.fingerprints import season_fingerprints
from f1_pipeline.core.transforms.quality import duplicate_keys, orphan_results
from f1_pipeline.core.transforms.reading import LINE

CLEANED_RACES = "cleaned/races"
CLEANED_RESULTS = "cleaned/results"

Cleaner = Callable[[SparkSession, str, str], DataFrame]


@dataclass(frozen=True)
class StagedTable:
    table: str
    df: DataFrame  # the staged Parquet, read back
    file: StagedFile
    source: ObjectInfo  # the exact source object version it was built from


@contextmanager
def staged_clean_table(ctx: StepContext, table: str, clean: Cleaner) -> Iterator[StagedTable]:
    """Clean ``source-data/{table}.csv`` (the exact version read is recorded) into a staged
    Parquet file and yield it, read back."""
    key = layout.source_csv(table)
    source = ctx.storage.info(key)
    with ctx.io.input(key, source.version_id) as path:
        cleaned = clean(ctx.session, path, ctx.storage.uri(key))
        with ctx.io.output(cleaned, table) as staged:
            df = ctx.session.read.parquet(staged.spark_path)
            yield StagedTable(table, df, staged, source)


def _checked(ctx: StepContext, outcomes: Sequence[CheckOutcome]) -> Sequence[CheckOutcome]:
    for outcome in outcomes:
        ctx.report_check(outcome)
    return outcomes


def publish_checked(
    ctx: StepContext, staged: StagedTable, outcomes: Sequence[CheckOutcome]
) -> dict[str, Any]:
    """Publish the staged table as ``cleaned/{table}.parquet`` (and its lineage record) if
    every check passed; return its materialisation metadata."""
    storage = ctx.storage
    fail_on_failed_checks(storage.uri(staged.source.key), outcomes)
    metadata = dataframe_metadata(staged.df.drop(LINE), staged.df.count())
    info = staged.file.publish(layout.cleaned_parquet(staged.table))
    source = source_record(storage, staged.source)
    write_json(storage, layout.cleaned_lineage(staged.table), {"source": source})
    return {**metadata, **object_metadata(storage, info), "source": source}


def cleaned_races_step(ctx: StepContext, params: Mapping[str, Any]) -> StepResult:
    """Typed, validated races; the seasons found become partitions of season_stats."""
    with staged_clean_table(ctx, "races", clean_races) as staged:
        df = staged.df
        outcomes = _checked(ctx, [
            check_outcome(CLEANED_RACES, "race_id_unique", duplicate_keys(df, "race_id"),
                          ("race_id", "count", "lines")),
            check_outcome(CLEANED_RACES, "season_round_unique",
                          duplicate_keys(df, "season", "round"),
                          ("season", "round", "count", "lines")),
        ])  # fmt: skip
        metadata = publish_checked(ctx, staged, outcomes)
        seasons = sorted(r["season"] for r in df.select("season").distinct().collect())
    ctx.log.info(f"cleaned races: {metadata['dagster/row_count']} rows, {len(seasons)} seasons")
    return StepResult(CLEANED_RACES, {**metadata, "seasons": seasons}, {"seasons": seasons})


def cleaned_results_step(ctx: StepContext, params: Mapping[str, Any]) -> StepResult:
    """Typed, validated results. Also fingerprints every season's races and results, so only
    the seasons an upload changed are republished."""
    storage = ctx.storage
    with (
        staged_clean_table(ctx, "results", clean_results) as staged,
        ctx.io.input(layout.cleaned_parquet("races")) as races_path,
    ):
        df, races = staged.df, ctx.session.read.parquet(races_path)
        outcomes = _checked(ctx, [
            check_outcome(CLEANED_RESULTS, "result_id_unique", duplicate_keys(df, "result_id"),
                          ("result_id", "count", "lines")),
            check_outcome(CLEANED_RESULTS, "race_id_in_races", orphan_results(df, races),
                          ("result_id", "race_id", LINE)),
        ])  # fmt: skip
        metadata = publish_checked(ctx, staged, outcomes)
        fingerprints = {
            str(r["season"]): r["fingerprint"] for r in season_fingerprints(races, df).collect()
        }
    races_lineage = read_json(storage, layout.cleaned_lineage("races")) or {}
    sources = {"races": races_lineage.get("source"), "results": metadata["source"]}
    write_json(storage, layout.season_fingerprints(), {"sources": sources, "seasons": fingerprints})
    ctx.log.info(f"cleaned results: {metadata['dagster/row_count']} rows")
    return StepResult(CLEANED_RESULTS, {**metadata, "season_fingerprints": capped(fingerprints)})
