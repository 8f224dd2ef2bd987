from __future__ import annotations

import pytest
from dagster import DagsterRunStatus, instance_for_test
from dagster._core.test_utils import create_run_for_test

from f1_pipeline.core.storage import layout
from f1_pipeline.defs.constants import INGEST_JOB
from f1_pipeline.defs.resources import StorageResource
from f1_pipeline.defs.sensors.source_data import SourceCursor, decide, source_data_sensor
from f1_pipeline_tests.defs.sensors.helpers import tick

RACES, RESULTS = layout.source_csv("races"), layout.source_csv("results")


def test_a_change_launches_once_the_listing_settles():
    launch, reason, cursor = decide({RACES: "a"}, SourceCursor(), ingest_running=False)
    assert (launch, cursor.pending) == (False, {RACES: "a"})
    assert "waiting one tick" in reason
    # results.csv lands before the next tick: still settling, now with both.
    launch, _, cursor = decide({RACES: "a", RESULTS: "b"}, cursor, ingest_running=False)
    assert not launch
    launch, reason, cursor = decide({RACES: "a", RESULTS: "b"}, cursor, ingest_running=False)
    assert launch
    assert reason == f"ingesting {RACES}, {RESULTS}"
    assert cursor == SourceCursor(ingested={RACES: "a", RESULTS: "b"})


def test_identical_content_is_not_a_change():
    cursor = SourceCursor(ingested={RACES: "a", RESULTS: "b"})
    launch, reason, after = decide({RACES: "a", RESULTS: "b"}, cursor, ingest_running=False)
    assert (launch, reason, after) == (False, "no new or changed source files", cursor)


def test_no_launch_while_an_ingest_runs_and_the_change_is_kept():
    cursor = SourceCursor(ingested={RACES: "a"}, pending={RACES: "z"})
    launch, reason, after = decide({RACES: "z"}, cursor, ingest_running=True)
    assert not launch
    assert "waiting for the running ingest" in reason
    assert after == cursor


def test_cursor_size_is_bounded_by_the_source_keys():
    cursor = SourceCursor()
    for n in range(50):
        _, _, cursor = decide({RACES: str(n)}, cursor, ingest_running=False)
        _, _, cursor = decide({RACES: str(n)}, cursor, ingest_running=False)
    assert cursor == SourceCursor(ingested={RACES: "49"})
    assert len(cursor.dump()) < 200


@pytest.fixture
def instance():
    with instance_for_test() as inst:
        yield inst


def test_sensor_on_a_local_root(data_root, instance):
    storage = StorageResource(data_root=str(data_root))
    (data_root / "source-data" / "notes.txt").write_text("ignored")
    first = tick(source_data_sensor, instance, storage)
    assert first.run_requests == []
    second = tick(source_data_sensor, instance, storage, first.cursor)
    [request] = second.run_requests
    assert request.tags["f1/trigger"] == "source_data_sensor"
    assert RACES in request.tags["f1/source_checksums"]
    assert "notes.txt" not in request.tags["f1/source_checksums"]
    third = tick(source_data_sensor, instance, storage, second.cursor)
    assert third.run_requests == []
    assert third.skip_message == "no new or changed source files"

    # An edit while an ingest is in flight waits for it.
    races = data_root / RACES
    races.write_bytes(races.read_bytes() + b"9999,2030,1,New,2030-03-01,null\r\n")
    create_run_for_test(instance, job_name=INGEST_JOB, status=DagsterRunStatus.STARTED)
    waiting = tick(source_data_sensor, instance, storage, third.cursor)
    assert waiting.run_requests == []
    assert "waiting for the running ingest" in waiting.skip_message
