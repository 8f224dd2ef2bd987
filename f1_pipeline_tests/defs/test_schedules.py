"""The race-weekend schedule publishes only what is due; the freshness check runs on its own
schedule at the tick's time (a fixed clock), and its alert fires once per change of state; so
does the published-files check's, which runs after every publish and on its own schedule."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from dagster import build_schedule_context, build_sensor_context, instance_for_test
from dagster._core.definitions.partitions.context import partition_loading_context

from f1_pipeline.core.storage import layout
from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.alerts import AlertsResource
from f1_pipeline.defs.constants import ALERTS_KEY, CHECK_TIME_TAG
from f1_pipeline.defs.sensors.freshness import (
    AGREEMENT_KEY,
    freshness_alert_sensor,
    published_files_alert_sensor,
)
from f1_pipeline_tests.conftest import local_env
from f1_pipeline_tests.runs import publish
from f1_pipeline_tests.webhook import Webhook


def _schedule_tick(defs, name, instance, when):
    schedule = next(s for s in defs.schedules if s.name == name)
    with (
        build_schedule_context(
            instance=instance,
            scheduled_execution_time=when,
            repository_def=defs.get_repository_def(),
            resources=defs.resources,
        ) as context,
        partition_loading_context(dynamic_partitions_store=instance),
    ):
        return schedule.evaluate_tick(context)


def test_monday_republishes_nothing_when_nothing_changed(data_root, spark):
    env = local_env(data_root)
    defs = build_definitions(env)
    with instance_for_test() as instance:
        publish(defs, instance)
        data = _schedule_tick(defs, "race_weekend_schedule", instance, datetime(2024, 7, 8, 6))
    assert data.run_requests == []
    assert data.skip_message.startswith("nothing new since upload ")
    assert "ingested 20" in data.skip_message


def test_monday_publishes_what_a_change_made_due(data_root, spark):
    env = local_env(data_root)
    defs = build_definitions(env)
    with instance_for_test() as instance:
        publish(defs, instance)
        results = data_root / "source-data" / "results.csv"
        results.write_bytes(results.read_bytes().replace(b",01:29.4", b",01:29.3", 1))
        data = _schedule_tick(defs, "race_weekend_schedule", instance, datetime(2024, 7, 8, 6))
    [request] = data.run_requests
    assert request.run_key == "race-weekend-2024-07-08T06:00"
    assert request.tags["f1/trigger"] == "race_weekend_schedule"
    assert request.tags["dagster/asset_partition_range_start"] == "2018"


def test_the_freshness_schedule_checks_at_its_tick_time(tmp_path):
    defs = build_definitions(local_env(tmp_path / "data"))
    with instance_for_test() as instance:
        when = datetime(2024, 7, 23, 0, 15, tzinfo=UTC)
        [request] = _schedule_tick(defs, "freshness_schedule", instance, when).run_requests
    assert request.tags[CHECK_TIME_TAG] == when.isoformat()
    assert request.run_key == "freshness-2024-07-23T00:15"


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook.url, hook.received
    hook.close()


def test_freshness_turns_red_on_its_schedule_and_alerts_once(data_root, spark, webhook):
    """The sample's results stop after round 12 (2024-07-07); round 13 started 2024-07-21
    13:00 UTC. With a fixed clock: green the day after, red 36 h after round 13's start."""
    url, received = webhook
    env = local_env(data_root)
    defs = build_definitions(env)
    alerts = {ALERTS_KEY: AlertsResource(webhook_url=url, ui_url="http://ui")}
    job = defs.resolve_job_def("freshness_check_job")
    cursor = None

    def check_at(when: datetime) -> bool:
        nonlocal cursor
        tags = {CHECK_TIME_TAG: when.isoformat()}
        result = job.execute_in_process(instance=instance, tags=tags)
        [evaluation] = result.get_asset_check_evaluations()
        with build_sensor_context(instance=instance, cursor=cursor, resources=alerts) as ctx:
            freshness_alert_sensor.evaluate_tick(ctx)
            cursor = ctx.cursor
        return evaluation.passed

    with instance_for_test() as instance:
        publish(defs, instance)  # checked after the ingest too (wall clock)
        received.clear()
        cursor = None
        assert check_at(datetime(2024, 7, 22, 12, tzinfo=UTC)) is True
        assert received == []
        assert check_at(datetime(2024, 7, 23, 2, tzinfo=UTC)) is False
        assert check_at(datetime(2024, 7, 23, 8, tzinfo=UTC)) is False  # still red: no alert
        assert len(received) == 1
        assert received[0]["state"] == "failing"
        assert "2024 round 13" in received[0]["text"]
        assert check_at(datetime(2024, 7, 22, 13, tzinfo=UTC)) is True  # green again
        assert [a["state"] for a in received] == ["failing", "passing"]


def test_default_crons_and_overrides(tmp_path):
    defs = build_definitions(local_env(tmp_path))
    crons = {s.name: (s.cron_schedule, s.execution_timezone) for s in defs.schedules}
    assert crons == {
        "race_weekend_schedule": ("0 6 * * 1", "UTC"),
        "freshness_schedule": ("15 */6 * * *", "UTC"),
        "published_files_schedule": ("30 5 * * *", "UTC"),
    }
    env = {"F1_RACE_WEEKEND_CRON": "30 7 * * 1", "F1_FRESHNESS_CRON": "@hourly",
           "F1_AGREEMENT_CRON": "0 3 * * *"}  # fmt: skip
    custom = build_definitions(env)
    assert {s.cron_schedule for s in custom.schedules} == {"30 7 * * 1", "@hourly", "0 3 * * *"}


def test_a_file_changed_behind_the_platforms_back_turns_the_files_check_red_once(
    data_root, spark, webhook
):
    url, received = webhook
    env = local_env(data_root)
    defs = build_definitions(env)
    alerts = {ALERTS_KEY: AlertsResource(webhook_url=url, ui_url="http://ui")}
    job = defs.resolve_job_def("published_files_check_job")
    cursor = None

    def alert_tick() -> None:
        nonlocal cursor
        with build_sensor_context(instance=instance, cursor=cursor, resources=alerts) as ctx:
            published_files_alert_sensor.evaluate_tick(ctx)
            cursor = ctx.cursor

    def check() -> bool:
        [evaluation] = job.execute_in_process(instance=instance).get_asset_check_evaluations()
        alert_tick()
        return evaluation.passed

    with instance_for_test() as instance:
        result = publish(defs, instance)
        # It ran after the publish, in the publish run.
        record = instance.get_latest_asset_check_evaluation_record(AGREEMENT_KEY)
        assert record.run_id in result.run_ids
        assert record.evaluation.passed
        alert_tick()
        assert received == []
        path = data_root / layout.stats_json(2022)
        good = path.read_bytes()
        races = json.loads(good)
        races[0]["Race Fastest Lap"] = "0:59.999"
        path.write_text(json.dumps(races))
        assert check() is False
        assert check() is False  # still red: one alert
        [alert] = received
        assert alert["state"] == "failing"
        assert alert["check"] == "results/season_stats:published_files_agree"
        assert (
            "season 2022 round 1: JSON and Parquet differ in winner_fastest_lap_time"
            in (alert["text"])
        )
        path.write_bytes(good)
        assert check() is True
        assert [a["state"] for a in received] == ["failing", "passing"]
