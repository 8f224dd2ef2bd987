"""Keep the published seasons built from the current upload by the current code, listing
``source-data/`` every tick (the same sensor for S3 and the local root).

Each tick reads the uploaded files' checksums (S3 ETag, local sha256; never a time, so two
objects written in the same second are both seen) and takes the one decision of
:mod:`f1_pipeline.defs.sensors.state`: one run of the publish job when the upload, the code
or the published seasons are out of step. A listing that changed since the last tick is read
again a moment later in the same tick until it holds still, so a burst of uploads is one run.
Run keys come from the cursor's sequence number: unique per request, and the same again if a
tick is replayed after a daemon crash (so nothing is launched twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from dagster import (
    DefaultSensorStatus,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from f1_pipeline.core.storage import Storage
from f1_pipeline.core.upload import Listing, listing
from f1_pipeline.defs.constants import SENSOR_INTERVAL_SECONDS
from f1_pipeline.defs.jobs import f1_job
from f1_pipeline.defs.resources import StepRunnerResource, StorageResource
from f1_pipeline.defs.sensors.cursor import JsonCursor
from f1_pipeline.defs.sensors.state import decide, read_state

# A listing that changed since the last tick is read again this long after, within the
# tick, until it holds still (at most SETTLE_BUDGET_SECONDS: ticks stay short): files
# uploaded up to about a second apart are one run.
SETTLE_SECONDS = 1.5
SETTLE_BUDGET_SECONDS = 4.5


@dataclass
class UploadCursor(JsonCursor):
    seq: int = 0  # run requests made: the next run key is <sensor>-<seq + 1>
    seen: Listing | None = None  # the listing the last tick read


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def settle(read: Callable[[], Listing], previous: Listing | None) -> tuple[Listing, bool]:
    """The listing once it holds still (read again every ``SETTLE_SECONDS`` while it changes);
    False when it was still changing after ``SETTLE_BUDGET_SECONDS``."""
    files = read()
    waited = 0.0
    while files != previous:
        if waited + SETTLE_SECONDS > SETTLE_BUDGET_SECONDS:
            return files, False
        _pause(SETTLE_SECONDS)
        waited += SETTLE_SECONDS
        previous, files = files, read()
    return files, True


@dataclass(frozen=True)
class Tick:
    result: SensorResult
    cursor: UploadCursor
    in_sync: bool = False  # nothing was due: the published seasons match upload and code


def evaluate(
    context: SensorEvaluationContext,
    store: Storage,
    step_runner: StepRunnerResource,
    read: Callable[[], Listing],
    cursor: UploadCursor,
    trigger: str,
) -> Tick:
    """One tick's decision for the files ``read`` returns."""
    files, still = settle(read, cursor.seen)
    if not still:
        after = UploadCursor(cursor.seq, files)
        reason = "the upload is still changing; looking again next tick"
        return Tick(SensorResult(skip_reason=SkipReason(reason), cursor=after.dump()), after)
    latest = step_runner.latest_season or 9999
    state = read_state(store, files, step_runner.code_versions(), latest)
    key = f"{trigger}-{cursor.seq + 1}"
    decision = decide(context.instance, context.repository_def, store, state, trigger, key)
    context.log.info(decision.reason)
    after = UploadCursor(cursor.seq + (1 if decision.request else 0), files)
    result = SensorResult(
        run_requests=[decision.request] if decision.request else [],
        skip_reason=None if decision.request else SkipReason(decision.reason),
        cursor=after.dump(),
        dynamic_partitions_requests=decision.partition_requests,
        asset_events=decision.asset_events,
    )
    return Tick(result, after, bool(state.files) and not state.due)


@sensor(
    job=f1_job,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Keeps the published seasons built from the current source-data/ (S3 or the "
    "local root) by the current code: one run per upload once it holds still, one at a time; "
    "a held or refused upload waits for an acceptance or a new upload; a run that failed after "
    "Dagster's retries waits for new data, new code or a person.",
)
def source_data_sensor(
    context: SensorEvaluationContext, storage: StorageResource, step_runner: StepRunnerResource
):
    store = storage.get()
    cursor = UploadCursor.load(context.cursor)
    tick = evaluate(
        context, store, step_runner, lambda: listing(store), cursor, "source_data_sensor"
    )
    return tick.result
