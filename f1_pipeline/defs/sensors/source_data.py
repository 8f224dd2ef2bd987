"""Keep the cleaned layer built from the current upload.

Each tick compares what is uploaded (each source object's checksum: S3 ETag, local sha256)
with what the cleaned layer was built from (its commit record). When they differ, an ingest
is requested once the upload has settled (the listing unchanged ``SETTLE_SECONDS`` later in
the same tick, so a burst of uploads becomes one ingest) and no ingest is running.
Decisions follow the data, not what was last requested: a failed, cancelled or killed
ingest is requested again (with backoff) until the cleaned layer matches the upload; a file
put back to earlier content is re-ingested if the cleaned layer was built from something
else; an upload the ingest refused (bad input) waits for the next upload instead of failing
in a loop. No time is kept in the
cursor, so objects written in the same second as the last one are never missed.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from f1_pipeline.core.lineage import read_commit, tables_match
from f1_pipeline.core.storage import Storage, layout
from f1_pipeline.defs.constants import (
    SENSOR_INTERVAL_SECONDS,
    SOURCE_CHECKSUMS_TAG,
    SOURCE_VERSIONS_TAG,
    TRIGGER_TAG,
)
from f1_pipeline.defs.jobs import ingest_job
from f1_pipeline.defs.resources import StorageResource
from f1_pipeline.defs.sensors.cursor import JsonCursor
from f1_pipeline.defs.sensors.runs import (
    INGEST_JOBS,
    Outcome,
    last_outcome,
    retry_delay,
    runs_in_flight,
)

SOURCE_KEYS = tuple(layout.source_csv(t) for t in layout.SOURCE_TABLES)
# A new listing is looked at again this long after, within the same tick: unchanged, it has
# settled and is ingested at once, rather than a whole sensor round (5 s or more) later.
# Uploads further apart than this are two ingests (the second after the first). None:
# settle by one whole tick.
SETTLE_SECONDS: float | None = 2.0

Listing = dict[str, str]  # source key -> checksum


@dataclass
class SourceCursor(JsonCursor):
    pending: Listing | None = None  # a listing the cleaned layer is not built from, settling
    requested: Listing | None = None  # the listing last requested
    attempts: int = 0  # ingests requested for it
    retry_at: float = 0.0  # no new request for it before (epoch seconds)


def listing_tag(listing: Mapping[str, str]) -> str:
    return json.dumps(dict(listing), sort_keys=True)


def built_from(storage: Storage) -> Listing:
    """The source checksums the cleaned layer was built from: empty before any ingest, and
    when its tables are not the ones its commit record names (an interrupted ingest), so
    that the upload is ingested again."""
    commit = read_commit(storage)
    if commit is None or not tables_match(storage, commit):
        return {}
    return {s["key"]: s["checksum"] for s in (commit.get("sources") or {}).values() if s}


@dataclass(frozen=True)
class Decision:
    request: bool
    reason: str
    cursor: SourceCursor
    settling: bool = False  # a new listing, waiting to see it unchanged


def decide(
    listing: Listing,
    built: Listing,
    cursor: SourceCursor,
    ingest_running: bool,
    outcome: Outcome | None,
    now: float,
) -> Decision:
    """What to do for the current listing. ``outcome``: how the latest ingest requested for
    this exact listing ended (None if never requested)."""
    if not listing:
        return Decision(False, "no source files uploaded yet", SourceCursor())
    if listing == built:
        return Decision(False, "the cleaned layer is built from the current upload", SourceCursor())
    changed = ", ".join(sorted(k for k in listing if built.get(k) != listing[k])) or "a file"
    if ingest_running:
        return Decision(False, f"{changed} changed; waiting for the running ingest", cursor)
    if cursor.pending != listing:
        after = SourceCursor(listing, cursor.requested, cursor.attempts, cursor.retry_at)
        return Decision(
            False, f"{changed} changed; waiting one tick for the upload to settle", after, True
        )
    if cursor.requested != listing:
        return Decision(
            True, f"ingesting {changed}", SourceCursor(listing, listing, 1, now + retry_delay(1))
        )
    if outcome is None or outcome.status is None:
        return Decision(False, f"waiting for the ingest of {changed} to start", cursor)
    if outcome.bad_input:
        return Decision(
            False,
            f"upload refused (run {outcome.run_id}): {outcome.message}; waiting for a new upload",
            cursor,
        )
    if now < cursor.retry_at:
        return Decision(
            False,
            f"the last ingest ({outcome.run_id}, {outcome.status}) did not build the cleaned layer "
            f"from this upload; retrying in {cursor.retry_at - now:.0f}s",
            cursor,
        )
    attempts = cursor.attempts + 1
    after = SourceCursor(listing, listing, attempts, now + retry_delay(attempts))
    return Decision(True, f"ingesting {changed} again (attempt {attempts})", after)


@sensor(
    job=ingest_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Keeps the cleaned layer built from the current source-data/ (S3 or the "
    "local root): ingests a new or changed upload once it settles, one ingest at a time, "
    "and retries a failed one until it succeeds (an upload refused as bad input waits for "
    "the next upload).",
)
def source_data_sensor(context: SensorEvaluationContext, storage: StorageResource):
    store = storage.get()

    def listing() -> Listing:
        return {o.key: o.checksum for o in store.list(layout.SOURCE_PREFIX) if o.key in SOURCE_KEYS}

    cursor = SourceCursor.load(context.cursor)
    return settled(context, store, listing, cursor, "source_data_sensor").result


def _pause(seconds: float) -> None:
    time.sleep(seconds)


@dataclass(frozen=True)
class Evaluation:
    """One tick's decision as a sensor result; ``cursor`` is what the result stores."""

    result: SensorResult
    cursor: SourceCursor
    settling: bool = False


def settled(
    context: SensorEvaluationContext,
    store: Storage,
    listing: Callable[[], Listing],
    cursor: SourceCursor,
    trigger: str,
) -> Evaluation:
    """:func:`evaluate` on the current listing; a new one is read again ``SETTLE_SECONDS``
    later in the same tick and, if unchanged, ingested now."""
    tick = evaluate(context, store, listing(), cursor, trigger)
    if tick.settling and SETTLE_SECONDS is not None:
        _pause(SETTLE_SECONDS)
        tick = evaluate(context, store, listing(), tick.cursor, trigger)
    return tick


def evaluate(
    context: SensorEvaluationContext,
    store: Storage,
    listing: Listing,
    cursor: SourceCursor,
    trigger: str,
) -> Evaluation:
    """The tick for ``listing`` (the source objects' checksums, however they were found):
    the decision, logged, and the ingest run request it makes (tagged with ``trigger``)."""
    built = built_from(store)
    running = bool(runs_in_flight(context.instance, INGEST_JOBS))
    outcome = None
    if listing and cursor.requested == listing and not running:
        outcome = last_outcome(context.instance, SOURCE_CHECKSUMS_TAG, listing_tag(listing))
    decision = decide(listing, built, cursor, running, outcome, time.time())
    context.log.info(decision.reason)
    if not decision.request:
        result = SensorResult(
            skip_reason=SkipReason(decision.reason), cursor=decision.cursor.dump()
        )
        return Evaluation(result, decision.cursor, decision.settling)
    # Pin the versions to ingest where the storage keeps versions (S3): the run reads exactly
    # the upload that settled, whatever arrives meanwhile.
    versions = {
        table: store.info(layout.source_csv(table)).version_id
        for table in layout.SOURCE_TABLES
        if layout.source_csv(table) in listing
    }
    tags = {
        TRIGGER_TAG: trigger,
        SOURCE_CHECKSUMS_TAG: listing_tag(listing),
        SOURCE_VERSIONS_TAG: json.dumps({t: v for t, v in versions.items() if v}, sort_keys=True),
    }
    digest = hashlib.sha256(listing_tag(listing).encode()).hexdigest()[:16]
    request = RunRequest(run_key=f"ingest-{digest}-{decision.cursor.attempts}", tags=tags)
    result = SensorResult(run_requests=[request], cursor=decision.cursor.dump())
    return Evaluation(result, decision.cursor)
