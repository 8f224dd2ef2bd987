"""Keep the published seasons built from the current upload by the current code, listing
``source-data/`` every tick (the same sensor for S3 and the local root).

Each tick reads the uploaded files' checksums (S3 ETag, local sha256; never a time, so two
objects written in the same second are both seen) and takes the one decision of
:mod:`f1_pipeline.defs.sensors.state`: one run of the publish job when the upload, the code
or the published seasons are out of step. A listing that changed since the last tick is taken
once nothing was written for a moment (from the objects' write times, read again within the
tick until then), so a burst of uploads is one run.
Run keys come from the cursor's sequence number: unique per request, and the same again if a
tick is replayed after a daemon crash (so nothing is launched twice).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from dagster import (
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
)

from f1_pipeline.core.storage import Storage
from f1_pipeline.core.upload import Listing, Look, look
from f1_pipeline.defs.jobs import f1_job
from f1_pipeline.defs.resources import StepRunnerResource, StorageResource
from f1_pipeline.defs.sensors.cursor import JsonCursor, f1_sensor
from f1_pipeline.defs.sensors.state import decide, read_state

# A listing that changed since the last tick is taken as still once nothing was written for
# SETTLE_SECONDS (read again until then, within the tick, at most SETTLE_BUDGET_SECONDS:
# ticks stay short): files uploaded up to about a second apart are one run. When the read
# dates the newest write, only what is left of that quiet time is waited (nothing, when the
# tick comes later than that); otherwise the whole of it.
SETTLE_SECONDS = 1.5
SETTLE_BUDGET_SECONDS = 4.5
# The longest single wait, whatever the store's clock says (one ahead of ours would
# otherwise hold every tick).
LONGEST_PAUSE = SETTLE_SECONDS + 1.0


@dataclass
class UploadCursor(JsonCursor):
    seq: int = 0  # run requests made: the next run key is <sensor>-<seq + 1>
    seen: Listing | None = None  # the listing the last tick read


def _pause(seconds: float) -> None:
    time.sleep(seconds)


def settle(
    read: Callable[[], Look], previous: Listing | None, now: Callable[[], float] = time.time
) -> tuple[Listing, bool]:
    """The listing once it holds still (see ``SETTLE_SECONDS``); False when it was still
    changing after ``SETTLE_BUDGET_SECONDS``. A listing equal to ``previous`` (the last
    tick's) is still at once."""
    seen = read()
    files, waited = seen.files, 0.0
    while files != previous:
        # A file gone since the last look was removed at a time no listing shows.
        gone = previous is not None and not set(previous) <= set(files)
        pause = _quiet_left(None if gone else seen.written_by, now())
        if pause <= 0:
            break  # nothing written for SETTLE_SECONDS already
        if waited + pause > SETTLE_BUDGET_SECONDS:
            return files, False
        _pause(pause)
        waited += pause
        previous, seen = files, read()
        files = seen.files
    return files, True


def _quiet_left(written_by: float | None, now: float) -> float:
    """How much longer to wait before a listing whose newest write finished by
    ``written_by`` counts as still."""
    if written_by is None:
        return SETTLE_SECONDS
    return min(written_by + SETTLE_SECONDS - now, LONGEST_PAUSE)


@dataclass(frozen=True)
class Tick:
    result: SensorResult
    cursor: UploadCursor
    in_sync: bool = False  # nothing was due: the published seasons match upload and code


def evaluate(
    context: SensorEvaluationContext,
    store: Storage,
    step_runner: StepRunnerResource,
    read: Callable[[], Look],
    cursor: UploadCursor,
    trigger: str,
) -> Tick:
    """One tick's decision for the files ``read`` returns."""
    files, still = settle(read, cursor.seen)
    if not still:
        after = UploadCursor(cursor.seq, files)
        reason = "the upload is still changing; looking again next tick"
        return Tick(SensorResult(skip_reason=SkipReason(reason), cursor=after.dump()), after)
    state = read_state(store, files, step_runner.code_versions(), step_runner.last_season())
    key = f"{trigger}-{cursor.seq + 1}"
    decision = decide(context.instance, context.repository_def, store, state, trigger, key)
    context.log.info(decision.reason)
    after = UploadCursor(cursor.seq + (1 if decision.request else 0), files)
    result = SensorResult(
        run_requests=[decision.request] if decision.request else [],
        skip_reason=None if decision.request else SkipReason(decision.reason),
        cursor=after.dump(),
        asset_events=decision.asset_events,
    )
    return Tick(result, after, bool(state.files) and not state.due)


@f1_sensor(
    job=f1_job,
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
    tick = evaluate(context, store, step_runner, lambda: look(store), cursor, "source_data_sensor")
    return tick.result
