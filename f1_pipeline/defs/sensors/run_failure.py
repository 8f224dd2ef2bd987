"""One alert per problem for failed runs: posted when a run's last attempt has failed, never
for an attempt Dagster is about to retry, and once per held upload however many runs see it.

Dagster writes ``dagster/will_retry`` on a failed run a moment after its failure event when
run retries are on ("true": a retry will be launched, "false": none); its retry daemon sets
it back to "false" when it cannot launch the retry, and launches none (leaving "true") for a
run whose backfill has ended. So a failed run is *decided* here, not at its failure event:
retried (``dagster/auto_retry_run_id`` set: logged only), or final (alerted, with the
attempts made: ``dagster/retry_number`` + 1), or still open (looked at again next tick).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dagster import (
    DagsterEventType,
    DagsterInstance,
    DagsterRunStatus,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
)

from f1_pipeline.defs.alerts import AlertsResource
from f1_pipeline.defs.constants import RETRY_NUMBER_TAG
from f1_pipeline.defs.partitions import PARTITION_RANGE_END, PARTITION_RANGE_START
from f1_pipeline.defs.sensors.cursor import JsonCursor, f1_sensor
from f1_pipeline.defs.sensors.runs import step_failures

WILL_RETRY, RETRIED_AS = "dagster/will_retry", "dagster/auto_retry_run_id"
BACKFILL_TAG = "dagster/backfill"
# A failed run whose will_retry Dagster has not written after this long is decided without it.
TAG_WAIT_SECONDS = 60.0
_MAX_ERROR_CHARS = 1000
_BACKFILL_ENDED = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}
# Our hold message's start (core/holds.py: hold_message): the upload a held run names.
_HELD = re.compile(r"\bupload (\w+) held: ")


# Run timestamps are stored to the second: runs updated this close to the watermark are read
# again, and those already decided skipped.
OVERLAP_SECONDS = 2.0


@dataclass
class FailureCursor(JsonCursor):
    since: float = 0.0  # runs that failed before this are decided
    open: list[str] = field(default_factory=list)  # failed runs not decided yet
    decided: list[str] = field(default_factory=list)  # decided, near the watermark
    held: str | None = None  # the held upload last alerted


def _failure(instance: DagsterInstance, run_id: str) -> tuple[str, str | None]:
    """The failed step's message (the innermost error's), and the held upload if it was."""
    for failure in step_failures(instance, run_id):
        held = _HELD.search(failure.text) if failure.held else None
        return failure.text[:_MAX_ERROR_CHARS], held.group(1) if held else None
    for record in instance.all_logs(run_id, of_type=DagsterEventType.RUN_FAILURE):
        return (record.user_message or record.message or "").strip()[:_MAX_ERROR_CHARS], None
    return "", None


def decision(instance: DagsterInstance, run: Any, now: float, failed_at: float) -> str:
    """``retried``, ``final`` or ``open`` (see the module)."""
    tags = run.tags
    if tags.get(RETRIED_AS):
        return "retried"
    will_retry = tags.get(WILL_RETRY)
    if will_retry == "false" or (will_retry is None and not instance.run_retries_enabled):
        return "final"
    if will_retry is None:
        return "final" if now - failed_at > TAG_WAIT_SECONDS else "open"
    backfill = instance.get_backfill(tags[BACKFILL_TAG]) if tags.get(BACKFILL_TAG) else None
    if backfill is not None and backfill.status.value in _BACKFILL_ENDED:
        return "final"  # Dagster does not retry a run whose backfill has ended
    return "open"


def failure_alert(instance: DagsterInstance, run: Any, ui_url: str) -> dict[str, Any]:
    """The alert for a run whose last attempt failed: what, where, why, how many attempts,
    and where to look. ``text`` is the whole alert in one message (Slack-style incoming
    webhooks show it and refuse a body without it); the other fields are for machines."""
    tags = run.tags
    partitions = (
        f"{tags[PARTITION_RANGE_START]}...{tags[PARTITION_RANGE_END]}"
        if PARTITION_RANGE_START in tags else tags.get("dagster/partition")
    )  # fmt: skip
    error, held = _failure(instance, run.run_id)
    attempts = int(tags.get(RETRY_NUMBER_TAG) or 0) + 1
    run_url = f"{ui_url.rstrip('/')}/runs/{run.run_id}"
    where = f" (seasons {partitions})" if partitions else ""
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return {
        "text": f"f1-pipeline: {run.job_name}{where} failed{tries}: {error} — {run_url}",
        "alert": "f1-pipeline upload held" if held else "f1-pipeline run failed",
        "run_id": run.run_id,
        "job": run.job_name,
        "partitions": partitions,
        "attempts": attempts,
        "held_upload": held,
        "error": error,
        "run_url": run_url,
    }


@f1_sensor(
    description="One alert per failed run, when its last attempt has failed (log, and the "
    "webhook F1_ALERT_WEBHOOK_URL when set): an attempt Dagster retries is logged only; a "
    "held upload alerts once, however many runs see it.",
)
def run_failure_alert_sensor(context: SensorEvaluationContext, alerts: AlertsResource):
    cursor, now = FailureCursor.load(context.cursor), time.time()
    instance = context.instance
    after = datetime.fromtimestamp(max(0.0, cursor.since - OVERLAP_SECONDS), UTC)
    records = instance.get_run_records(
        RunsFilter(statuses=[DagsterRunStatus.FAILURE], updated_after=after),
        limit=100, ascending=True,
    )  # fmt: skip
    found = {r.dagster_run.run_id: r for r in records if r.dagster_run.run_id not in cursor.decided}
    if cursor.open:
        for record in instance.get_run_records(RunsFilter(run_ids=cursor.open)):
            found.setdefault(record.dagster_run.run_id, record)
    still_open, alerted, since = [], 0, cursor.since
    decided: dict[str, float] = {}
    for run_id, record in found.items():
        run, failed_at = record.dagster_run, record.update_timestamp.timestamp()
        since = max(since, failed_at)
        outcome = decision(instance, run, now, failed_at)
        if outcome == "open":
            still_open.append(run_id)
            continue
        decided[run_id] = failed_at
        if outcome == "retried":
            context.log.info(f"run {run_id} failed; Dagster retried it as {run.tags[RETRIED_AS]}")
            continue
        alert = failure_alert(instance, run, alerts.ui_url)
        if alert["held_upload"] and alert["held_upload"] == cursor.held:
            context.log.info(f"run {run_id}: upload {cursor.held} is still held (alerted)")
            continue
        cursor.held = alert["held_upload"] or cursor.held
        context.log.error(alert["text"])
        alerts.send(alert)
        alerted += 1
    near = [r for r in cursor.decided if r not in found] + [
        r for r, at in decided.items() if at >= since - OVERLAP_SECONDS
    ]
    context.update_cursor(FailureCursor(since, still_open[-100:], near[-100:], cursor.held).dump())
    return SkipReason(f"{alerted} alert(s); {len(still_open)} failed run(s) Dagster may retry")
