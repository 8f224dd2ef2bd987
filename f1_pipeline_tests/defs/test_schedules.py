from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dagster import build_schedule_context, instance_for_test
from dagster._core.definitions.partitions.context import partition_loading_context

from f1_pipeline.core.lineage import write_json
from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.constants import SEASONS_PARTITIONS, STORAGE_KEY
from f1_pipeline.defs.resources import StorageResource
from f1_pipeline.defs.schedules import race_weekend_schedule
from f1_pipeline.settings import DEFAULT_RACE_WEEKEND_CRON, Settings, SettingsError
from f1_pipeline_tests.conftest import local_settings


@pytest.fixture
def instance():
    with instance_for_test() as inst:
        inst.add_dynamic_partitions(SEASONS_PARTITIONS, ["2023", "2024"])
        yield inst


def _tick(instance, when, tmp_path):
    # The cleaned layer's commit record says which seasons the data has.
    record = {"seasons": {"2023": "fp-2023", "2024": "fp-2024"}, "sources": {}}
    write_json(LocalStorage(tmp_path), layout.season_fingerprints(), record)
    defs = build_definitions(local_settings(tmp_path))
    schedule = race_weekend_schedule(DEFAULT_RACE_WEEKEND_CRON)
    context = build_schedule_context(
        instance=instance,
        scheduled_execution_time=when,
        repository_def=defs.get_repository_def(),
        resources={STORAGE_KEY: StorageResource(data_root=str(tmp_path))},
    )
    # The daemon resolves dynamic partitions against the instance; do the same here.
    with partition_loading_context(dynamic_partitions_store=instance):
        return schedule.evaluate_tick(context)


def test_monday_after_a_race_weekend_runs_that_season(instance, tmp_path):
    data = _tick(instance, datetime(2024, 7, 8, 6, 0, tzinfo=UTC), tmp_path)
    [request] = data.run_requests
    assert request.partition_key == "2024"
    assert request.tags["f1/trigger"] == "race_weekend_schedule"


def test_a_season_without_data_is_a_clean_skip(instance, tmp_path):
    data = _tick(instance, datetime(2026, 3, 9, 6, 0, tzinfo=UTC), tmp_path)
    assert data.run_requests == []
    assert data.skip_message == "season 2026 has no races in the cleaned data"


def test_default_cron_and_override(tmp_path):
    defs = build_definitions(local_settings(tmp_path))
    # The definitions as built (get_schedule_def would build a repository, which looks for
    # a current Dagster instance).
    [schedule] = defs.schedules
    assert schedule.cron_schedule == "0 6 * * 1"
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status.value == "RUNNING"
    custom = Settings.from_env({"F1_RACE_WEEKEND_CRON": "30 7 * * 1"})
    [custom_schedule] = build_definitions(custom).schedules
    assert custom_schedule.cron_schedule == "30 7 * * 1"
    with pytest.raises(SettingsError, match="not a valid cron"):
        Settings.from_env({"F1_RACE_WEEKEND_CRON": "every monday"})
