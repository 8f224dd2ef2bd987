"""Alert on every failed run: always logged, and posted to F1_ALERT_WEBHOOK_URL when set."""

from typing import Any

from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    run_failure_sensor,
)

from f1_pipeline.defs.alerts import AlertsResource
from f1_pipeline.defs.partitions import PARTITION_RANGE_END, PARTITION_RANGE_START

_MAX_ERROR_CHARS = 1000


def failure_alert(context: RunFailureSensorContext, ui_url: str) -> dict[str, Any]:
    """The alert for a failed run: what failed, where, why, and where to look. ``text`` is
    the whole alert in one message (Slack-style incoming webhooks show it and refuse a body
    without it); the other fields are for machines."""
    run = context.dagster_run
    tags = run.tags
    partitions: str | None
    if PARTITION_RANGE_START in tags:
        partitions = f"{tags[PARTITION_RANGE_START]}...{tags[PARTITION_RANGE_END]}"
    else:
        partitions = tags.get("dagster/partition")
    steps = []
    for event in context.get_step_failure_events():
        data = event.step_failure_data
        message = data.user_failure_data.description if data.user_failure_data else None
        if not message and data.error:
            message = data.error.message
        steps.append({"step": event.step_key, "error": (message or "").strip()[:_MAX_ERROR_CHARS]})
    summary = steps[0]["error"] if steps else (context.failure_event.message or "")
    summary = (summary or "")[:_MAX_ERROR_CHARS]
    run_url = f"{ui_url.rstrip('/')}/runs/{run.run_id}"
    where = f" (seasons {partitions})" if partitions else ""
    return {
        "text": f"f1-pipeline: {run.job_name}{where} failed: {summary} — {run_url}",
        "alert": "f1-pipeline run failed",
        "run_id": run.run_id,
        "job": run.job_name,
        "assets": sorted(k.to_user_string() for k in (run.asset_selection or [])),
        "partitions": partitions,
        "failed_steps": steps,
        "error": summary,
        "run_url": run_url,
    }


@run_failure_sensor(
    default_status=DefaultSensorStatus.RUNNING,
    description="Logs every failed run and posts a JSON alert to F1_ALERT_WEBHOOK_URL.",
)
def run_failure_alert_sensor(context: RunFailureSensorContext, alerts: AlertsResource):
    alert = failure_alert(context, alerts.ui_url)
    context.log.error(alert["text"])

    if alerts.send(alert):
        context.log.info("alert posted to the webhook")
