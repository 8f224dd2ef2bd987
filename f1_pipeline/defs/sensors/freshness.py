"""Alert when the results-freshness check changes state (passing -> failing, failing ->
passing), not at every evaluation: it runs after every ingest and every few hours."""

from __future__ import annotations

from dataclasses import dataclass

from dagster import (
    AssetCheckKey,
    DefaultSensorStatus,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)

from f1_pipeline.defs.alerts import AlertsResource
from f1_pipeline.defs.assets.checks import FRESHNESS_CHECK, SEASON_STATS
from f1_pipeline.defs.constants import SENSOR_INTERVAL_SECONDS
from f1_pipeline.defs.sensors.cursor import JsonCursor

CHECK_KEY = AssetCheckKey(SEASON_STATS, FRESHNESS_CHECK)
_DONE = {"SUCCEEDED", "FAILED"}


@dataclass
class FreshnessCursor(JsonCursor):
    run_id: str | None = None  # the evaluation last looked at
    passed: bool = True  # its state (before any evaluation: passing, so a first red alerts)


def freshness_alert(passed: bool, description: str, run_id: str, ui_url: str) -> dict:
    run_url = f"{ui_url.rstrip('/')}/runs/{run_id}"
    state = "passing again" if passed else "failing"
    return {
        "text": f"f1-pipeline: results freshness {state}: {description} — {run_url}",
        "alert": "f1-pipeline results freshness",
        "state": "passing" if passed else "failing",
        "check": CHECK_KEY.to_user_string(),
        "description": description,
        "run_id": run_id,
        "run_url": run_url,
    }


@sensor(
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Alerts (log, and F1_ALERT_WEBHOOK_URL when set) when the results-freshness "
    "check on results/season_stats turns red or green again; never twice for one state.",
)
def freshness_alert_sensor(context: SensorEvaluationContext, alerts: AlertsResource):
    cursor = FreshnessCursor.load(context.cursor)
    record = context.instance.get_latest_asset_check_evaluation_record(CHECK_KEY)
    if record is None or record.status.value not in _DONE:
        return SkipReason("no finished evaluation of the freshness check yet")
    if record.run_id == cursor.run_id:
        return SkipReason(f"freshness {'passing' if cursor.passed else 'failing'}; no change")
    evaluation = record.evaluation
    passed = bool(evaluation.passed) if evaluation else record.status.value == "SUCCEEDED"
    description = (evaluation.description if evaluation else None) or ""
    after = FreshnessCursor(record.run_id, passed)
    if passed == cursor.passed:
        context.update_cursor(after.dump())
        return SkipReason(f"freshness still {'passing' if passed else 'failing'}")
    alert = freshness_alert(passed, description, record.run_id, alerts.ui_url)
    (context.log.info if passed else context.log.warning)(alert["text"])
    alerts.send(alert)
    context.update_cursor(after.dump())
    return SkipReason(f"freshness {alert['state']}: alerted")
