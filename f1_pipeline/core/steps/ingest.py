"""The ingest: both source files into the cleaned layer, all or nothing.

The whole upload is validated first — each file's encoding and values, then the checks
within and between the tables — with both tables staged and nothing published. Only then
is the cleaned layer replaced: both tables, their lineage files, and last the commit
record (``cleaned/_season_fingerprints.json``), which names the exact table versions it
describes. A failure anywhere leaves ``cleaned/`` and ``results/`` untouched; a kill during
the publish leaves tables the commit record does not describe, which readers detect (see
:func:`f1_pipeline.core.lineage.read_commit`) and the next ingest replaces.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pyspark.sql import DataFrame

from f1_pipeline.core.lineage import source_record, write_json
from f1_pipeline.core.steps.base import StepContext, StepResult
from f1_pipeline.core.steps.checks import Check, evaluate, fail_on_failed_checks
from f1_pipeline.core.steps.encoding import check_utf8
from f1_pipeline.core.steps.io import StagedFile
from f1_pipeline.core.steps.metadata import capped, dataframe_metadata, object_metadata
from f1_pipeline.core.storage import ObjectInfo, layout
from f1_pipeline.core.transforms.cleaning import validated_table
from f1_pipeline.core.transforms.fingerprints import season_fingerprints
from f1_pipeline.core.transforms.quality import duplicate_keys, orphan_results
from f1_pipeline.core.transforms.reading import LINE
from f1_pipeline.core.transforms.schema import RACES, RESULTS, TableSpec, latest_plausible_season

CLEANED_RACES = "cleaned/races"
CLEANED_RESULTS = "cleaned/results"
ASSETS = {"races": CLEANED_RACES, "results": CLEANED_RESULTS}

_SPECS: Mapping[str, TableSpec] = {"races": RACES, "results": RESULTS}


@dataclass(frozen=True)
class StagedTable:
    table: str
    df: DataFrame  # the staged Parquet, read back
    rows: int
    file: StagedFile
    source: ObjectInfo  # the exact source object version it was built from


@contextmanager
def _staged(
    ctx: StepContext, table: str, version_id: str | None, max_season: int
) -> Iterator[StagedTable]:
    """Pin ``source-data/{table}.csv``, check its encoding, clean it into a staged Parquet
    file and yield that, read back. Nothing is published here."""
    key = layout.source_csv(table)
    uri = ctx.storage.uri(key)
    with ExitStack() as stack:
        with ctx.phase(f"pin {table}"):
            pinned = stack.enter_context(ctx.io.input(key, version_id))
        with ctx.phase(f"utf-8 {table}"):
            check_utf8(pinned.chunks(), uri)
        with ctx.phase(f"validate {table}"):
            validation = validated_table(
                ctx.session, pinned.spark_path, _SPECS[table], uri, max_season
            )
            cleaned, rows = validation.__enter__()
        try:
            with ctx.phase(f"stage {table}"):
                staged = stack.enter_context(ctx.io.output(cleaned, table))
        finally:  # the validated rows stay cached for the write only
            validation.__exit__(None, None, None)
        df = ctx.session.read.parquet(staged.spark_path)
        yield StagedTable(table, df, rows, staged, pinned.info)


def _checks(ctx: StepContext, races: DataFrame, results: DataFrame) -> dict[str, list]:
    """Every blocking check, in one evaluation, reported as soon as it is done; by table."""
    checks = [
        Check(CLEANED_RACES, "race_id_unique", duplicate_keys(races, "race_id"),
              ("race_id", "count", "lines"), "lines"),
        Check(CLEANED_RACES, "season_round_unique", duplicate_keys(races, "season", "round"),
              ("season", "round", "count", "lines"), "lines"),
        Check(CLEANED_RESULTS, "result_id_unique", duplicate_keys(results, "result_id"),
              ("result_id", "count", "lines"), "lines"),
        Check(CLEANED_RESULTS, "race_id_in_races", orphan_results(results, races),
              ("result_id", "race_id", LINE), LINE),
    ]  # fmt: skip
    outcomes = evaluate(checks)
    for outcome in outcomes:
        ctx.report_check(outcome)
    return {
        "races": [o for o in outcomes if o.asset == CLEANED_RACES],
        "results": [o for o in outcomes if o.asset == CLEANED_RESULTS],
    }


def ingest_step(ctx: StepContext, params: Mapping[str, Any]) -> StepResult:
    """``params["versions"]`` (optional): the source object versions to read, per table;
    the current ones otherwise. ``params["latest_season"]`` (optional): the latest plausible
    season; next year otherwise. Returns both tables' metadata and the seasons found."""
    storage, versions = ctx.storage, params.get("versions") or {}
    max_season = int(params.get("latest_season") or latest_plausible_season())

    with ExitStack() as stack:
        staged = {
            table: stack.enter_context(_staged(ctx, table, versions.get(table), max_season))
            for table in _SPECS
        }
        races, results = staged["races"].df, staged["results"].df
        # The fingerprints are computed meanwhile, by a Spark job of their own: each action
        # is a round trip (most of a small upload's time over Spark Connect), and the two
        # share the machine's cores at scale. If a check fails, the step still waits for
        # that job to end (the staged files it reads outlive it), then reports the check.
        pool = stack.enter_context(ThreadPoolExecutor(1, thread_name_prefix="fingerprints"))
        computing = pool.submit(lambda: season_fingerprints(races, results).collect())
        with ctx.phase("checks"):
            outcomes = _checks(ctx, races, results)
        for table, table_outcomes in outcomes.items():
            fail_on_failed_checks(storage.uri(staged[table].source.key), table_outcomes)
        with ctx.phase("fingerprints"):
            fingerprints = {str(r["season"]): r["fingerprint"] for r in computing.result()}
        with ctx.phase("metadata"):
            metadata = {
                t: dataframe_metadata(s.df, s.rows, _SPECS[t].cleaned_columns)
                for t, s in staged.items()
            }
        # Everything is validated: publish the tables, their lineage, then the commit record.
        with ctx.phase("publish"):
            published = {t: s.file.publish(layout.cleaned_parquet(t)) for t, s in staged.items()}
    sources = {t: source_record(storage, s.source) for t, s in staged.items()}

    for table, source in sources.items():
        write_json(storage, layout.cleaned_lineage(table), {"source": source})
    write_json(
        storage,
        layout.season_fingerprints(),
        {
            "ingest_run_id": ctx.run_id,
            "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "sources": sources,
            "tables": {t: table_record(info) for t, info in published.items()},
            "seasons": fingerprints,
        },
    )
    seasons = sorted(int(s) for s in fingerprints)
    ctx.log.info(
        f"ingested {metadata['races']['dagster/row_count']} races and "
        f"{metadata['results']['dagster/row_count']} results over {len(seasons)} seasons"
    )
    materializations = {
        ASSETS[t]: {**metadata[t], **object_metadata(storage, published[t]), "source": sources[t]}
        for t in staged
    }
    materializations[CLEANED_RACES]["seasons"] = capped(seasons)
    materializations[CLEANED_RESULTS]["season_fingerprints"] = capped(fingerprints)
    return StepResult(materializations, {"seasons": seasons})


def table_record(info: ObjectInfo) -> dict[str, Any]:
    """How the commit record names a published table: exactly this version."""
    return {"key": info.key, "version_id": info.version_id, "checksum": info.checksum}
