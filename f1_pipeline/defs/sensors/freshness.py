"""Alert when a check on the published stats changes state (passing -> failing, failing ->
passing), not at every evaluation: the results-freshness check (after every ingest and every
few hours) and the published-files check (after every publish and daily)."""

from __future__ import annotations

from dataclasses import dataclass

from dagster import (
    AssetCheckKey,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
)

from f1_pipeline.defs.alerts import AlertsResource
from f1_pipeline.defs.assets.checks import AGREEMENT_CHECK, FRESHNESS_CHECK, SEASON_STATS
from f1_pipeline.defs.sensors.cursor import JsonCursor, f1_sensor

CHECK_KEY = AssetCheckKey(SEASON_STATS, FRESHNESS_CHECK)
AGREEMENT_KEY = AssetCheckKey(SEASON_STATS, AGREEMENT_CHECK)
_DONE = {"SUCCEEDED", "FAILED"}


@dataclass
class CheckStateCursor(JsonCursor):
    run_id: str | None = None  # the evaluation last looked at
    passed: bool = True  # its state (before any evaluation: passing, so a first red alerts)


def check_alert(
    what: str, key: AssetCheckKey, passed: bool, description: str, run_id: str, ui_url: str
) -> dict:
    run_url = f"{ui_url.rstrip('/')}/runs/{run_id}"
    state = "passing again" if passed else "failing"
    return {
        "text": f"f1-pipeline: {what} {state}: {description} — {run_url}",
        "alert": f"f1-pipeline {what}",
        "state": "passing" if passed else "failing",
        "check": key.to_user_string(),
        "description": description,
        "run_id": run_id,
        "run_url": run_url,
    }


def check_state_alert_sensor(name: str, key: AssetCheckKey, what: str) -> SensorDefinition:
    """A sensor alerting (log, and F1_ALERT_WEBHOOK_URL when set) when check ``key`` turns
    red or green again; never twice for one state."""

    @f1_sensor(
        name=name,
        description=f"Alerts (log, and F1_ALERT_WEBHOOK_URL when set) when the {what} check "
        f"({key.to_user_string()}) turns red or green again; never twice for one state.",
    )
    def _sensor(context: SensorEvaluationContext, alerts: AlertsResource):
        cursor = CheckStateCursor.load(context.cursor)
        record = context.instance.get_latest_asset_check_evaluation_record(key)
        if record is None or record.status.value not in _DONE:
            return SkipReason(f"no finished evaluation of the {what} check yet")
        if record.run_id == cursor.run_id:
            return SkipReason(f"{what} {'passing' if cursor.passed else 'failing'}; no change")
        evaluation = record.evaluation
        passed = bool(evaluation.passed) if evaluation else record.status.value == "SUCCEEDED"
        description = (evaluation.description if evaluation else None) or ""
        after = CheckStateCursor(record.run_id, passed)
        if passed == cursor.passed:
            context.update_cursor(after.dump())
            return SkipReason(f"{what} still {'passing' if passed else 'failing'}")
        alert = check_alert(what, key, passed, description, record.run_id, alerts.ui_url)
        (context.log.info if passed else context.log.warning)(alert["text"])
        alerts.send(alert)
        context.update_cursor(after.dump())
        return SkipReason(f"{what} {alert['state']}: alerted")

    return _sensor


freshness_alert_sensor = check_state_alert_sensor(
    "freshness_alert_sensor", CHECK_KEY, "results freshness"
)
published_files_alert_sensor = check_state_alert_sensor(
    "published_files_alert_sensor", AGREEMENT_KEY, "published files"
)
