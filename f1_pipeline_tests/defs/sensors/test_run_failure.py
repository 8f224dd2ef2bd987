"""One alert per problem for failed runs: a run Dagster will retry is logged, not alerted;
the last attempt alerts, saying how many were made; a retry Dagster cannot launch, or skips
because its backfill ended, alerts; a held upload alerts once however many runs see it.
Alerts go to a webhook served by the test on 127.0.0.1."""

from __future__ import annotations

import time

import pytest
from dagster import DagsterRunStatus, build_sensor_context, instance_for_test
from dagster._core.execution.backfill import BulkActionStatus, PartitionBackfill
from dagster._core.test_utils import create_run_for_test

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.launch import ingest
from f1_pipeline.core.storage import layout
from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.alerts import AlertDeliveryError, AlertsResource
from f1_pipeline.defs.constants import ALERTS_KEY
from f1_pipeline.defs.sensors import run_failure
from f1_pipeline.defs.sensors.run_failure import run_failure_alert_sensor
from f1_pipeline_tests.conftest import local_env
from f1_pipeline_tests.webhook import Webhook

RETRIES = {"run_retries": {"enabled": True, "max_retries": 2}}


@pytest.fixture
def hook():
    webhook = Webhook()
    yield webhook
    webhook.close()


class Alerts:
    """The sensor ticked against an instance, its cursor kept as the daemon keeps it."""

    def __init__(self, instance, hook: Webhook) -> None:
        self.instance, self.hook, self.cursor = instance, hook, None
        self.sink = AlertsResource(webhook_url=hook.url, ui_url="https://dagster.example/")

    def tick(self) -> list[dict]:
        before = len(self.hook.received)
        with build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources={ALERTS_KEY: self.sink}
        ) as context:
            run_failure_alert_sensor.evaluate_tick(context)
            self.cursor = context.cursor
        return self.hook.received[before:]


def _failed(instance, **tags):
    return create_run_for_test(
        instance, job_name="f1_job", status=DagsterRunStatus.FAILURE, tags=tags
    )


def test_a_failed_run_posts_one_json_alert_with_the_error(data_root, spark, hook):
    (data_root / layout.source_csv("results")).unlink()
    with instance_for_test() as instance:  # run retries off: every failure is final
        with pytest.raises(CommandError):
            ingest(build_definitions(local_env(data_root)), instance)
        run = instance.get_runs(limit=1)[0]
        alerts = Alerts(instance, hook)
        [alert] = alerts.tick()
        assert alerts.tick() == []  # once
    assert alert["run_id"] == run.run_id
    assert alert["run_url"] == f"https://dagster.example/runs/{run.run_id}"
    # Slack-style hooks need `text`: the whole alert in one line, link included.
    assert alert["text"].startswith("f1-pipeline: f1_job failed: ")
    assert alert["text"].endswith(f"file not found — https://dagster.example/runs/{run.run_id}")
    assert alert["error"] == f"{data_root / 'source-data/results.csv'}: file not found"
    assert alert["attempts"] == 1


def test_an_attempt_dagster_retries_is_logged_and_the_last_one_alerts(hook):
    with instance_for_test(overrides=RETRIES) as instance:
        alerts = Alerts(instance, hook)
        first = _failed(instance, **{"dagster/will_retry": "true"})
        assert alerts.tick() == []  # the retry is coming
        second = _failed(instance, **{"dagster/retry_number": "1", "dagster/will_retry": "true"})
        instance.add_run_tags(first.run_id, {"dagster/auto_retry_run_id": second.run_id})
        assert alerts.tick() == []
        third = _failed(instance, **{"dagster/retry_number": "2", "dagster/will_retry": "false"})
        instance.add_run_tags(second.run_id, {"dagster/auto_retry_run_id": third.run_id})
        [alert] = alerts.tick()
        assert alerts.tick() == []
    assert alert["run_id"] == third.run_id
    assert alert["attempts"] == 3
    assert " failed after 3 attempts: " in alert["text"]


def test_a_retry_dagster_cannot_launch_alerts(hook):
    with instance_for_test(overrides=RETRIES) as instance:
        alerts = Alerts(instance, hook)
        run = _failed(instance, **{"dagster/will_retry": "true"})
        assert alerts.tick() == []
        # The retry daemon failed to launch it: it sets will_retry back to false.
        instance.add_run_tags(run.run_id, {"dagster/will_retry": "false"})
        [alert] = alerts.tick()
    assert alert["run_id"] == run.run_id


def test_a_retry_skipped_because_its_backfill_ended_alerts(hook):
    with instance_for_test(overrides=RETRIES) as instance:
        alerts = Alerts(instance, hook)
        backfill = PartitionBackfill(
            backfill_id="bf1", status=BulkActionStatus.REQUESTED, from_failure=False, tags={},
            backfill_timestamp=time.time(),
        )  # fmt: skip
        instance.add_backfill(backfill)
        run = _failed(instance, **{"dagster/will_retry": "true", "dagster/backfill": "bf1"})
        assert alerts.tick() == []  # the backfill runs: Dagster may retry the run
        instance.update_backfill(backfill.with_status(BulkActionStatus.CANCELED))
        [alert] = alerts.tick()
    assert alert["run_id"] == run.run_id


def test_a_failure_without_dagsters_decision_waits_for_it_a_while(hook, monkeypatch):
    with instance_for_test(overrides=RETRIES) as instance:
        alerts = Alerts(instance, hook)
        run = _failed(instance)  # will_retry not written yet (it follows the failure event)
        assert alerts.tick() == []
        monkeypatch.setattr(run_failure, "TAG_WAIT_SECONDS", 0.0)
        [alert] = alerts.tick()
    assert alert["run_id"] == run.run_id


def test_a_held_upload_alerts_once_however_many_runs_see_it(published_sample, tmp_path, hook):
    import shutil

    from f1_pipeline_tests.conftest import copy_root

    root = copy_root(published_sample, tmp_path / "data")
    races, results = (root / layout.source_csv(t) for t in ("races", "results"))
    lines = races.read_bytes().splitlines(keepends=True)
    gone = {r.split(b",")[0] for r in lines if r.split(b",")[1] == b"2018"}
    races.write_bytes(b"".join(r for r in lines if r.split(b",")[0] not in gone))
    results.write_bytes(b"".join(r for r in results.read_bytes().splitlines(keepends=True)
                                 if r.split(b",")[1] not in gone))  # fmt: skip
    with instance_for_test() as instance:
        alerts = Alerts(instance, hook)
        defs = build_definitions(local_env(root))
        for _ in range(2):
            with pytest.raises(CommandError, match="held"):
                ingest(defs, instance)
        alerts_seen = alerts.tick()
        with pytest.raises(CommandError, match="held"):
            ingest(defs, instance)  # the schedule's, or a person's, run: still held
        assert alerts.tick() == []
    shutil.rmtree(root)
    [alert] = alerts_seen
    assert alert["alert"] == "f1-pipeline upload held"
    assert "would withdraw 2018 (published)" in alert["text"]


def test_no_webhook_means_log_only_and_a_refusing_one_never_shows_its_url(hook, capfd):
    assert AlertsResource(webhook_url=None).send({"text": "x"}) is False
    refusing = AlertsResource(webhook_url=f"{hook.url}/../nowhere?token=secret")
    hook.server.RequestHandlerClass.do_POST = lambda self: (
        self.send_response(500), self.end_headers()
    )  # fmt: skip
    with pytest.raises(AlertDeliveryError) as err:
        refusing.send({"text": "x"})
    assert "secret" not in str(err.value)
