"""The upload sensor: its decisions follow the data (what is uploaded vs what the cleaned
layer was built from), so failed or interrupted ingests are retried and bad uploads are not."""

from __future__ import annotations

import hashlib

import pytest
from dagster import DagsterRunStatus, instance_for_test
from dagster._core.test_utils import create_run_for_test

from f1_pipeline.core.storage import layout
from f1_pipeline.defs.constants import INGEST_JOB
from f1_pipeline.defs.resources import StorageResource
from f1_pipeline.defs.sensors.runs import Outcome, retry_delay
from f1_pipeline.defs.sensors.source_data import SourceCursor, decide, source_data_sensor
from f1_pipeline_tests.defs.sensors.helpers import tick

RACES, RESULTS = layout.source_csv("races"), layout.source_csv("results")
NOW = 1_000_000.0
UPLOAD = {RACES: "a", RESULTS: "b"}


def _decide(listing, built, cursor, running=False, outcome=None, now=NOW):
    return decide(listing, built, cursor, running, outcome, now)


def test_a_change_is_ingested_once_the_listing_settles():
    first = _decide({RACES: "a"}, {}, SourceCursor())
    assert (first.request, first.cursor.pending) == (False, {RACES: "a"})
    assert "waiting one tick" in first.reason
    # results.csv lands before the next tick: still settling, now with both.
    second = _decide(UPLOAD, {}, first.cursor)
    assert not second.request
    third = _decide(UPLOAD, {}, second.cursor)
    assert third.request
    assert third.reason == f"ingesting {RACES}, {RESULTS}"
    assert (third.cursor.requested, third.cursor.attempts) == (UPLOAD, 1)


def test_nothing_to_do_when_the_cleaned_layer_is_built_from_the_upload():
    decision = _decide(UPLOAD, dict(UPLOAD), SourceCursor(pending=UPLOAD, requested=UPLOAD))
    assert not decision.request
    assert decision.reason == "the cleaned layer is built from the current upload"
    assert decision.cursor == SourceCursor()  # bounded: nothing kept once in sync


def test_no_request_while_an_ingest_runs():
    cursor = SourceCursor(pending=UPLOAD)
    decision = _decide(UPLOAD, {}, cursor, running=True)
    assert not decision.request
    assert "waiting for the running ingest" in decision.reason
    assert decision.cursor == cursor


def test_a_failed_ingest_is_retried_with_backoff_until_the_data_matches():
    requested = _decide(UPLOAD, {}, SourceCursor(pending=UPLOAD)).cursor
    failed = Outcome("run-1", "FAILURE")
    too_soon = _decide(UPLOAD, {}, requested, outcome=failed, now=NOW + 1)
    assert not too_soon.request
    assert "retrying in" in too_soon.reason
    later = NOW + retry_delay(1) + 1
    retry = _decide(UPLOAD, {}, requested, outcome=failed, now=later)
    assert retry.request
    assert retry.cursor.attempts == 2
    assert retry.cursor.retry_at == pytest.approx(later + retry_delay(2))
    # A killed or cancelled run is retried the same way; so is a run that succeeded but read
    # other content (the file changed while it ran).
    for outcome in (Outcome("r", "CANCELED"), Outcome("r", "SUCCESS")):
        assert _decide(UPLOAD, {RACES: "z"}, requested, outcome=outcome, now=later).request


def test_a_refused_upload_waits_for_a_new_one():
    requested = _decide(UPLOAD, {}, SourceCursor(pending=UPLOAD)).cursor
    refused = Outcome("run-1", "FAILURE", bad_input=True, message="races.csv, line 4: ...")
    decision = _decide(UPLOAD, {}, requested, outcome=refused, now=NOW + 10_000)
    assert not decision.request
    assert "upload refused (run run-1): races.csv, line 4" in decision.reason
    fixed = {RACES: "c", RESULTS: "b"}
    assert _decide(fixed, {}, _decide(fixed, {}, decision.cursor).cursor).request


def test_a_file_put_back_is_reingested_if_the_layer_was_built_from_something_else():
    # The cleaned layer was built from "x" (uploaded while an ingest of "a" ran); the
    # provider put "a" back: the listing is the one last requested, yet it differs.
    requested = SourceCursor(pending=UPLOAD, requested=UPLOAD, attempts=1, retry_at=NOW)
    built = {RACES: "x", RESULTS: "b"}
    decision = _decide(UPLOAD, built, requested, outcome=Outcome("r", "SUCCESS"), now=NOW + 1)
    assert decision.request


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
    assert request.tags["f1/source_versions"] == "{}"  # a local root has no versions
    # Requested, not yet started: no second request.
    third = tick(source_data_sensor, instance, storage, second.cursor)
    assert third.run_requests == []

    # An edit while an ingest is in flight waits for it.
    races = data_root / RACES
    races.write_bytes(races.read_bytes() + b"9999,2030,1,New,2030-03-01,null\r\n")
    create_run_for_test(instance, job_name=INGEST_JOB, status=DagsterRunStatus.STARTED)
    waiting = tick(source_data_sensor, instance, storage, third.cursor)
    assert waiting.run_requests == []
    assert "waiting for the running ingest" in waiting.skip_message


def test_an_upload_settles_within_one_tick(data_root, instance, monkeypatch):
    """The default: a new listing is read again SETTLE_SECONDS later in the same tick."""
    from f1_pipeline.defs.sensors import source_data

    monkeypatch.setattr(source_data, "SETTLE_SECONDS", 0.3)
    storage = StorageResource(data_root=str(data_root))
    [request] = tick(source_data_sensor, instance, storage).run_requests
    assert RACES in request.tags["f1/source_checksums"]


def test_a_write_during_the_settle_window_waits_for_the_next_tick(data_root, instance, monkeypatch):
    from f1_pipeline.defs.sensors import source_data

    races = data_root / RACES

    def upload_meanwhile(seconds: float) -> None:  # the provider's next file lands
        races.write_bytes(races.read_bytes() + b"9999,2030,1,New,2030-03-01,null\r\n")

    monkeypatch.setattr(source_data, "SETTLE_SECONDS", 0.3)
    monkeypatch.setattr(source_data, "_pause", upload_meanwhile)
    storage = StorageResource(data_root=str(data_root))
    first = tick(source_data_sensor, instance, storage)
    assert first.run_requests == []
    assert "waiting one tick for the upload to settle" in first.skip_message
    monkeypatch.setattr(source_data, "_pause", lambda seconds: None)
    [request] = tick(source_data_sensor, instance, storage, first.cursor).run_requests
    # The upload as it is after the write, not as the tick first saw it.
    assert hashlib.sha256(races.read_bytes()).hexdigest() in request.tags["f1/source_checksums"]
