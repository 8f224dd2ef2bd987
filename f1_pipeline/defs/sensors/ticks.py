"""Alert when a sensor or schedule starts failing its ticks (storage unreachable, a bad
credential, an exception), and when it recovers: once each, naming it and the error.

Ticks are read through the webserver's GraphQL API (Dagster's Python tick API is private),
at ``F1_DAGSTER_URL``: this sensor runs in the daemon, beside the webserver of each shape
(`make ui`, `make team`, and deploy/, whose daemon is given the webserver's address). With
no daemon (`make run` alone) no sensor or schedule ticks, and there is nothing to watch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dagster import SensorEvaluationContext, SkipReason

from f1_pipeline.defs.alerts import AlertsResource
from f1_pipeline.defs.graphql import WebserverError, graphql
from f1_pipeline.defs.sensors.cursor import JsonCursor, f1_sensor

NAME = "tick_failure_alert_sensor"
_TICKS = """
query Instigators {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes {
      sensors { name sensorState { ticks(limit: 3) { status error { message
        cause { message } } } } }
      schedules { name scheduleState { ticks(limit: 3) { status error { message
        cause { message } } } } } } }
    ... on PythonError { message } } }"""


@dataclass
class TickCursor(JsonCursor):
    failing: dict[str, str] = field(default_factory=dict)  # instigator -> the error alerted


def latest(ticks: list[dict[str, Any]]) -> tuple[str, str] | None:
    """The latest finished tick's status and error (innermost cause); None: none yet."""
    for tick in ticks:  # newest first
        if tick["status"] in ("SUCCESS", "SKIPPED", "FAILURE"):
            error, text = tick.get("error") or {}, ""
            while error:
                text, error = error.get("message") or text, error.get("cause")
            return tick["status"], text.strip().splitlines()[0] if text.strip() else ""
    return None


def instigators(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every sensor's and schedule's latest ticks, by name (this one's left out)."""
    repositories = graphql(url, _TICKS)["repositoriesOrError"]
    if repositories["__typename"] != "RepositoryConnection":
        raise WebserverError(repositories.get("message", repositories["__typename"]))
    found = {}
    for repository in repositories["nodes"]:
        for kind, state in (("sensors", "sensorState"), ("schedules", "scheduleState")):
            for item in repository[kind]:
                if item["name"] != NAME:
                    found[item["name"]] = item[state]["ticks"]
    return found


@f1_sensor(
    name=NAME,
    description="Alerts (log, and F1_ALERT_WEBHOOK_URL when set) once when a sensor or "
    "schedule starts failing its ticks and once when it recovers, naming it and the error "
    "(ticks read through the webserver at F1_DAGSTER_URL).",
)
def tick_failure_alert_sensor(context: SensorEvaluationContext, alerts: AlertsResource):
    cursor = TickCursor.load(context.cursor)
    try:
        ticks = instigators(alerts.ui_url)
    except WebserverError as err:
        return SkipReason(f"cannot read the ticks: {err}")
    changes = []
    for name, recent in sorted(ticks.items()):
        seen = latest(recent)
        if seen is None:
            continue
        status, error = seen
        if status == "FAILURE" and name not in cursor.failing:
            cursor.failing[name] = error
            changes.append((name, "failing", f"its ticks fail: {error}"))
        elif status != "FAILURE" and name in cursor.failing:
            before = cursor.failing.pop(name)
            changes.append((name, "recovered", f"ticks again (it failed with: {before})"))
    for name, state, text in changes:
        alert = {"text": f"f1-pipeline: {name} {text} — {alerts.ui_url.rstrip('/')}/automation",
                 "alert": "f1-pipeline ticks", "instigator": name, "state": state}  # fmt: skip
        (context.log.warning if state == "failing" else context.log.info)(alert["text"])
        alerts.send(alert)
    context.update_cursor(cursor.dump())
    failing = ", ".join(sorted(cursor.failing)) or "none"
    return SkipReason(f"{len(changes)} alert(s); failing: {failing}")
