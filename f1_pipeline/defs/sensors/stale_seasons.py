"""Keep the published seasons equal to what the cleaned layer says, and only touch those that
differ.

The cleaned layer's commit record holds a content fingerprint per season; the manifest
holds the fingerprint each published season was computed from. Seasons where they differ
(or never published) are stale; seasons the manifest has published but the data no longer
has must be withdrawn. Both are republished together (one run per contiguous range of
partitions: one run in the usual case). The decision follows the data, so a failed,
cancelled or killed season run is requested again, with backoff, until the manifest
matches. Partitions follow the data too: seasons in the data are registered (in season
order), withdrawn seasons' partitions are removed (their history stays).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass

from dagster import (
    AddDynamicPartitionsRequest,
    DefaultSensorStatus,
    DeleteDynamicPartitionsRequest,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from f1_pipeline.core.lineage import (
    read_commit,
    read_json,
    stale_seasons,
    vanished_seasons,
    withdrawn_seasons,
)
from f1_pipeline.core.storage import layout
from f1_pipeline.defs.constants import (
    SEASONS_PARTITIONS,
    SENSOR_INTERVAL_SECONDS,
    STALE_SEASONS_TAG,
    TRIGGER_TAG,
)
from f1_pipeline.defs.jobs import season_stats_job
from f1_pipeline.defs.partitions import contiguous_ranges, range_tags, season_partitions
from f1_pipeline.defs.resources import StorageResource
from f1_pipeline.defs.sensors.cursor import JsonCursor
from f1_pipeline.defs.sensors.runs import PUBLISH_JOBS, in_flight_after, last_outcome, retry_delay

# A tick that finds an ingest or season run under way waits (up to this long, well inside
# Dagster's 60 s sensor timeout) for it to end and then decides at once: the season run
# follows the ingest within a second instead of at the daemon's next round (5 s or more).
HANDOVER_SECONDS = 30.0


@dataclass
class SeasonsCursor(JsonCursor):
    requested: str | None = None  # the state last requested (a digest of data and targets)
    attempts: int = 0
    retry_at: float = 0.0


def season_run_requests(
    order: Sequence[str], seasons: Sequence[str], tags: dict, run_key: str
) -> list[RunRequest]:
    requests = []
    for first, last in contiguous_ranges(order, seasons):
        key = f"{run_key}-{first}-{last}"
        if first == last:
            requests.append(RunRequest(run_key=key, partition_key=first, tags=tags))
        else:
            requests.append(RunRequest(run_key=key, tags={**tags, **range_tags(first, last)}))
    return requests


@sensor(
    job=season_stats_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Republishes the season_stats partitions whose data changed (the cleaned "
    "layer's per-season fingerprints vs results/_manifest.json) and withdraws seasons the "
    "data no longer has; retries a failed season run until the manifest matches.",
)
def stale_seasons_sensor(context: SensorEvaluationContext, storage: StorageResource):
    if in_flight_after(context.instance, PUBLISH_JOBS, HANDOVER_SECONDS):
        return SkipReason("an ingest or season run is in progress")

    store = storage.get()
    commit = read_commit(store)
    if commit is None:
        return SkipReason("no cleaned data yet")
    fingerprints = commit.get("seasons", {})
    manifest = read_json(store, layout.manifest()) or {}
    registered = context.instance.get_dynamic_partitions(SEASONS_PARTITIONS)
    # Partitions follow the data: add seasons an interrupted ingest did not register, drop
    # the ones withdrawn from it.
    missing = sorted((s for s in fingerprints if s not in registered), key=int)
    gone = [s for s in withdrawn_seasons(manifest) if s in registered and s not in fingerprints]
    partition_requests: list[AddDynamicPartitionsRequest | DeleteDynamicPartitionsRequest] = []
    if missing:
        partition_requests.append(season_partitions.build_add_request(missing))
    if gone:
        partition_requests.append(season_partitions.build_delete_request(gone))
    order = [*[s for s in registered if s not in gone], *missing]
    targets = sorted(
        {*stale_seasons(fingerprints, manifest), *vanished_seasons(fingerprints, manifest)}
        & set(order),
        key=int,
    )
    cursor = SeasonsCursor.load(context.cursor)
    if not targets:
        reason = "every season is up to date"
        if gone:
            reason += f"; removed the partitions of withdrawn season(s) {', '.join(gone)}"
        return SensorResult(
            skip_reason=SkipReason(reason),
            cursor=SeasonsCursor().dump(),
            dynamic_partitions_requests=partition_requests,
        )
    state = json.dumps({"data": commit.get("tables") or fingerprints, "targets": targets})
    digest = hashlib.sha256(state.encode()).hexdigest()[:16]
    now = time.time()
    if cursor.requested == digest:
        outcome = last_outcome(context.instance, STALE_SEASONS_TAG, digest)
        if outcome.status is None:
            return SkipReason(f"waiting for the run of season(s) {', '.join(targets)} to start")
        if now < cursor.retry_at:
            return SkipReason(
                f"season(s) {', '.join(targets)} still differ from the data after run "
                f"{outcome.run_id} ({outcome.status}); retrying in {cursor.retry_at - now:.0f}s"
            )
        attempts = cursor.attempts + 1
        next_cursor = SeasonsCursor(digest, attempts, now + retry_delay(attempts))
    else:
        next_cursor = SeasonsCursor(digest, 1, now + retry_delay(1))
    context.log.info(f"season(s) to republish or withdraw: {', '.join(targets)}")
    tags = {TRIGGER_TAG: "stale_seasons_sensor", STALE_SEASONS_TAG: digest}
    run_key = f"seasons-{digest}-{next_cursor.attempts}"
    return SensorResult(
        run_requests=season_run_requests(order, targets, tags, run_key),
        cursor=next_cursor.dump(),
        dynamic_partitions_requests=partition_requests,
    )
