"""The upload sensor's own logic, tick by tick (Dagster's daemon drives it in
test_convergence.py): a burst settles within a tick; the request covers every season
partition, with a run key from the cursor's sequence; "in flight" is judged by the assets a
run writes, whatever launched it."""

from __future__ import annotations

import json

import pytest
from dagster import AssetKey, DagsterRunStatus, instance_for_test
from dagster._core.test_utils import create_run_for_test

from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline.core.upload import Look, look
from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.sensors import source_data
from f1_pipeline.defs.sensors.source_data import (
    LONGEST_PAUSE,
    SETTLE_SECONDS,
    UploadCursor,
    settle,
    source_data_sensor,
)
from f1_pipeline_tests.conftest import local_env
from f1_pipeline_tests.defs.sensors.helpers import tick

RACES, RESULTS = layout.source_csv("races"), layout.source_csv("results")


@pytest.fixture
def instance():
    with instance_for_test() as inst:
        yield inst


@pytest.fixture
def resources(data_root):
    return build_definitions(local_env(data_root)).resources


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(source_data, "_pause", lambda seconds: None)


def test_a_listing_is_read_until_it_holds_still_within_the_tick(monkeypatch):
    reads = iter([{RACES: "a"}, {RACES: "a", RESULTS: "b"}, {RACES: "a", RESULTS: "b"}])
    assert settle(lambda: Look(next(reads)), None) == ({RACES: "a", RESULTS: "b"}, True)
    # Unchanged since the last tick: no second look.
    assert settle(lambda: Look({RACES: "a"}), {RACES: "a"}) == ({RACES: "a"}, True)
    # Still changing when the tick's budget is spent: the next tick looks again.
    count = iter(range(100))
    _files, still = settle(lambda: Look({RACES: str(next(count))}), None)
    assert not still


def _waits(monkeypatch) -> list[float]:
    pauses: list[float] = []
    monkeypatch.setattr(source_data, "_pause", pauses.append)
    return pauses


def test_a_dated_listing_waits_only_what_is_left_of_the_quiet_time(monkeypatch):
    pauses, now = _waits(monkeypatch), 1000.0
    both = {RACES: "a", RESULTS: "b"}
    # Written long enough ago: still at once, one read, no wait.
    reads = []
    settled = settle(lambda: reads.append(1) or Look(both, now - 5), None, lambda: now)
    assert settled == (both, True)
    assert len(reads) == 1
    assert pauses == []
    # Written 0.5 s ago: what is left of SETTLE_SECONDS, then a second read.
    assert settle(lambda: Look(both, now - 0.5), None, lambda: now) == (both, True)
    assert pauses == [pytest.approx(SETTLE_SECONDS - 0.5)]
    # A store clock far ahead of ours never holds a tick longer than LONGEST_PAUSE.
    pauses.clear()
    assert settle(lambda: Look(both, now + 60), None, lambda: now) == (both, True)
    assert pauses == [LONGEST_PAUSE]
    # A file gone since the last tick: its removal is undated, the whole quiet time is waited.
    pauses.clear()
    assert settle(lambda: Look({RACES: "a"}, now - 5), both, lambda: now) == ({RACES: "a"}, True)
    assert pauses == [SETTLE_SECONDS]


def test_the_listing_dates_its_newest_write(data_root):
    storage = LocalStorage(data_root)
    seen = look(storage)
    stamps = [(data_root / key).stat().st_mtime for key in (RACES, RESULTS)]
    assert set(seen.files) == {RACES, RESULTS}
    assert seen.written_by == max(stamps)


def test_the_request_covers_every_season_with_a_run_key_from_the_cursor(
    data_root, instance, resources
):
    data = tick(source_data_sensor, instance, None, resources=resources)
    [request] = data.run_requests
    assert request.run_key == "source_data_sensor-1"
    assert UploadCursor.load(data.cursor).seq == 1
    assert request.tags["dagster/asset_partition_range_start"] == "2018"
    assert request.tags["dagster/asset_partition_range_end"] == "2024"
    assert json.loads(request.tags["f1/source_checksums"]).keys() == {RACES, RESULTS}
    assert request.tags["f1/source_versions"] == "{}"  # a local root has no versions
    # The seasons are partitions before the run, and the upload is reported as the raw
    # assets' materialisations.
    assert instance.get_dynamic_partitions("seasons") == [str(s) for s in range(2018, 2025)]
    assert {e.asset_key for e in data.asset_events} == {
        AssetKey(["source_data", "races"]),
        AssetKey(["source_data", "results"]),
    }
    # A tick replayed from the same cursor (the daemon crashed before recording it) asks
    # for the same run key: the daemon launches nothing twice.
    replay = tick(source_data_sensor, instance, None, resources=resources)
    assert replay.run_requests[0].run_key == request.run_key


@pytest.mark.parametrize(
    "selection",
    [
        None,  # a whole-job run: its assets are the job's
        {AssetKey(["results", "season_stats"])},  # a UI Materialize of one asset
    ],
)
def test_any_run_writing_the_outputs_is_waited_for(data_root, instance, resources, selection):
    job = "f1_job" if selection is None else "__ASSET_JOB"
    create_run_for_test(
        instance, job_name=job, status=DagsterRunStatus.STARTED, asset_selection=selection
    )
    defs = build_definitions(local_env(data_root))
    data = tick(source_data_sensor, instance, None, defs=defs, resources=resources)
    assert data.run_requests == []
    assert "(it writes the same outputs)" in data.skip_message


def test_a_run_of_other_assets_is_not_in_the_way(data_root, instance, resources):
    create_run_for_test(
        instance, job_name="__ASSET_JOB", status=DagsterRunStatus.STARTED,
        asset_selection={AssetKey(["some", "other"])},
    )  # fmt: skip
    defs = build_definitions(local_env(data_root))
    assert tick(source_data_sensor, instance, None, defs=defs, resources=resources).run_requests
