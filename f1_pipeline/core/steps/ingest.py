"""The ingest: both source files into the cleaned layer, all or nothing.

The whole upload is validated first — each file's encoding and values, then the checks
within and between the tables, then whether it would remove published data (a held upload,
see :mod:`f1_pipeline.core.holds`) — with both tables staged and nothing published. Only
then is the cleaned layer replaced: both tables, their lineage files, and last the commit
record (``cleaned/_season_fingerprints.json``), which names the exact table versions it
describes, the upload, the cleaning code's version and per-season summaries. A failure
anywhere leaves ``cleaned/`` and ``results/`` untouched; a kill during the publish leaves
tables the commit record does not describe, which readers detect (see
:meth:`f1_pipeline.core.lineage.Commit.built_from`) and the next ingest replaces.

An upload the cleaned layer is already built from, by the same code, is not cleaned again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame

from f1_pipeline.core import history
from f1_pipeline.core.code_version import code_versions
from f1_pipeline.core.holds import (
    hold_message,
    record_hold,
    upload_id,
)
from f1_pipeline.core.lineage import (
    Commit,
    SeasonSummary,
    Source,
    Table,
    now,
    read_commit,
    write_commit,
    write_json,
)
from f1_pipeline.core.steps.base import CheckOutcome, StepContext, StepResult
from f1_pipeline.core.steps.checks import (
    Check,
    ChecksFailed,
    UploadHeld,
    evaluate,
    fail_on_failed_checks,
)
from f1_pipeline.core.steps.encoding import check_utf8
from f1_pipeline.core.steps.hold_check import HOLD_CHECK, hold_check, withdrawals
from f1_pipeline.core.steps.io import Pinned, StagedFile
from f1_pipeline.core.steps.metadata import (
    PREVIEW_ROWS,
    capped,
    dataframe_metadata,
    object_metadata,
    preview_columns,
)
from f1_pipeline.core.storage import ObjectInfo, Storage, layout
from f1_pipeline.core.transforms.cleaning import validated_table
from f1_pipeline.core.transforms.fingerprints import season_summaries
from f1_pipeline.core.transforms.quality import duplicate_keys, orphan_results
from f1_pipeline.core.transforms.reading import LINE
from f1_pipeline.core.transforms.schema import RACES, RESULTS, TableSpec, latest_plausible_season

CLEANED_RACES = "cleaned/races"
CLEANED_RESULTS = "cleaned/results"
ASSETS = {"races": CLEANED_RACES, "results": CLEANED_RESULTS}
# Every blocking check of the ingest: its asset, name and what it asks.
CHECKS = (
    (CLEANED_RACES, "race_id_unique", "Each raceId appears once."),
    (CLEANED_RACES, "season_round_unique", "Each (year, round) appears once."),
    (CLEANED_RACES, HOLD_CHECK, "The upload removes no published data: no season withdrawn, "
     "no race losing its winner, no season losing more than the set share of its races or "
     "results. Otherwise it is held until accepted (`f1-pipeline accept`, or the f1/accept "
     "tag)."),
    (CLEANED_RESULTS, "result_id_unique", "Each resultId appears once."),
    (CLEANED_RESULTS, "race_id_in_races", "Every result's raceId exists in races.csv."),
)  # fmt: skip

_SPECS: Mapping[str, TableSpec] = {"races": RACES, "results": RESULTS}


@dataclass(frozen=True)
class StagedTable:
    sha256: str  # of the source bytes read: the content's identity (an ETag is not)
    df: DataFrame  # the staged Parquet, read back
    rows: int
    file: StagedFile
    source: ObjectInfo  # the exact source object version it was built from


@contextmanager
def _staged(ctx: StepContext, table: str, pinned: Pinned, max_season: int) -> Iterator[StagedTable]:
    """Check the pinned ``source-data/{table}.csv``'s encoding, clean it into a staged
    Parquet file and yield that, read back. Nothing is published here."""
    uri = ctx.storage.uri(pinned.info.key)
    with ExitStack() as stack:
        with ctx.phase(f"utf-8 {table}"):
            digest = hashlib.sha256()
            header = check_utf8(_hashed(pinned.chunks(), digest), uri)
        with ctx.phase(f"validate {table}"):
            validation = validated_table(
                ctx.session, pinned.spark_path, _SPECS[table], uri, max_season, header=header
            )
            cleaned, rows = validation.__enter__()
        try:
            with ctx.phase(f"stage {table}"):
                staged = stack.enter_context(ctx.io.output(cleaned, table))
        finally:  # the validated rows stay cached for the write only
            validation.__exit__(None, None, None)
        df = ctx.session.read.schema(_SPECS[table].cleaned_ddl).parquet(staged.spark_path)
        yield StagedTable(digest.hexdigest(), df, rows, staged, pinned.info)


def _hashed(chunks: Iterable[bytes], digest: Any) -> Iterator[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


def _data_checks(
    races: DataFrame, results: DataFrame
) -> tuple[list[CheckOutcome], dict[str, SeasonSummary], dict[str, list[dict]]]:
    """The blocking checks within and between the tables, the season summaries and both
    tables' previews: one Spark action (each is a round trip, most of a small upload's
    time over Spark Connect). Returns the outcomes, the summaries by season and the
    previews by table."""
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
    riders = {"summaries": season_summaries(races, results)}
    for table, df in (("races", races), ("results", results)):
        shown = preview_columns(_SPECS[table].cleaned_columns)
        riders[f"preview:{table}"] = df.select(*shown).limit(PREVIEW_ROWS)
    outcomes, ridden = evaluate(checks, riders)
    summaries = {
        str(r["season"]): SeasonSummary.load({**r, "rounds": r["rounds"] or []})
        for r in sorted(ridden["summaries"], key=lambda r: r["season"])
    }
    previews = {t: ridden[f"preview:{t}"] for t in ("races", "results")}
    return outcomes, summaries, previews


def ingest_step(ctx: StepContext, params: Mapping[str, Any]) -> StepResult:
    """``params``: ``versions`` (optional): the source object versions to read, per table;
    ``latest_season``: the latest plausible season (next year by default); ``hold``: the
    :class:`HoldPolicy`; ``accept``: ``{"upload", "by"}`` when the run accepts a held upload.
    Returns both tables' metadata, the seasons found and the upload's id."""
    storage, versions = ctx.storage, params.get("versions") or {}
    max_season = int(params.get("latest_season") or latest_plausible_season())
    code = code_versions()["cleaning"]
    commit = read_commit(storage)

    with ExitStack() as stack:
        with ctx.phase("pin"):
            pinned = {
                t: stack.enter_context(ctx.io.input(layout.source_csv(t), versions.get(t)))
                for t in _SPECS
            }
        uid = upload_id({t: p.info.checksum for t, p in pinned.items()})
        checksums = {p.info.key: p.info.checksum for p in pinned.values()}
        if commit is not None and commit.built_from(storage, checksums, code):
            ctx.log.info(f"the cleaned layer is built from upload {uid} by this code: unchanged")
            # The same data, checked by the same code when it was built: the checks hold.
            verified = {"unchanged": True, "checked_by_run": commit.ingest_run_id}
            for asset, name, _ in CHECKS:
                ctx.report_check(CheckOutcome(asset, name, True, verified))
            return _unchanged_result(storage, commit, uid)
        staged = {t: stack.enter_context(_staged(ctx, t, pinned[t], max_season)) for t in _SPECS}
        races, results = staged["races"].df, staged["results"].df
        with ctx.phase("checks"):
            outcomes, summaries, previews = _data_checks(races, results)
        hold = hold_check(ctx, uid, summaries, commit, params)
        outcomes.append(hold.outcome())
        for outcome in outcomes:
            ctx.report_check(outcome)
        for table, asset in ASSETS.items():
            table_outcomes = [o for o in outcomes if o.asset == asset and o.name != HOLD_CHECK]
            fail_on_failed_checks(storage.uri(staged[table].source.key), table_outcomes)
        if hold.held:
            held = {t: Source.of(storage, s.source).dump() for t, s in staged.items()}
            record_hold(storage, uid, held, hold.changes, ctx.run_id, hold.over)
            raise UploadHeld(storage.uri(layout.SOURCE_PREFIX), hold_message(uid, hold.changes))
        with ctx.phase("metadata"):
            metadata = {
                t: dataframe_metadata(s.df, s.rows, _SPECS[t].cleaned_columns, previews[t])
                for t, s in staged.items()
            }
        # Everything is validated: publish the tables, their lineage, then the commit record.
        with ctx.phase("publish"):
            published = {t: s.file.publish(layout.cleaned_parquet(t)) for t, s in staged.items()}
    sources = {t: Source.of(storage, s.source) for t, s in staged.items()}
    for table, source in sources.items():
        write_json(storage, layout.cleaned_lineage(table), {"source": source.dump()})
    record = Commit(
        upload=uid,
        ingest_run_id=ctx.run_id,
        ingested_at=now(),
        code_version=code,
        sources=sources,
        tables={
            t: Table(i.key, i.checksum, i.version_id, staged[t].rows) for t, i in published.items()
        },
        seasons=dict(summaries),
        withdrawals_accepted=withdrawals(commit, hold, summaries),
    )
    write_commit(storage, record)
    history.record(storage, history.Upload(
        upload=uid, accepted_at=record.ingested_at, ingest_run_id=ctx.run_id, sources=sources,
        content={t: s.sha256 for t, s in staged.items()},
        seasons_changed=history.changed(commit, record),
        accepted_by=hold.acceptance["accepted_by"] if hold.acceptance else None,
    ), int(params.get("keep") or 10))  # fmt: skip
    seasons = record.season_list()
    ctx.log.info(
        f"ingested upload {uid}: {staged['races'].rows} races and {staged['results'].rows} "
        f"results over {len(seasons)} seasons"
    )
    materializations = {
        ASSETS[t]: {
            **metadata[t],
            **object_metadata(storage, published[t]),
            "source": sources[t].dump(),
        }
        for t in staged
    }
    materializations[CLEANED_RACES]["seasons"] = capped(seasons)
    materializations[CLEANED_RACES]["upload"] = uid
    materializations[CLEANED_RESULTS]["season_fingerprints"] = capped(
        {s: v.fingerprint for s, v in summaries.items()}
    )
    return StepResult(materializations, {"seasons": seasons, "upload": uid, "unchanged": False})


def _unchanged_result(storage: Storage, commit: Commit, uid: str) -> StepResult:
    """Both tables as the commit record names them: nothing was rewritten."""
    materializations = {}
    for table, asset in ASSETS.items():
        record = commit.tables[table]
        info = storage.info(record.key, record.version_id)
        materializations[asset] = {
            **object_metadata(storage, info),
            "unchanged": True,
            "built_by_run": commit.ingest_run_id,
            "dagster/row_count": record.rows,
        }
    data = {"seasons": commit.season_list(), "upload": uid, "unchanged": True}
    return StepResult(materializations, data)


__all__ = ["ASSETS", "CLEANED_RACES", "CLEANED_RESULTS", "HOLD_CHECK", "ChecksFailed",
           "ingest_step"]  # fmt: skip
