"""State that stays true across uploads and failures, through the real sensors and runs, on a
local root and on S3 (moto on loopback): published stats always end up equal to what a clean
run on the current upload publishes, and no season from an older upload survives."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from dagster import DagsterRunStatus, instance_for_test
from dagster._core.test_utils import create_run_for_test

from f1_pipeline.core.lineage import read_commit, read_json
from f1_pipeline.core.storage import layout
from f1_pipeline.defs.constants import SOURCE_CHECKSUMS_TAG, STALE_SEASONS_TAG
from f1_pipeline.defs.sensors import source_data, stale_seasons
from f1_pipeline.defs.sensors.source_data import SourceCursor, listing_tag, source_data_sensor
from f1_pipeline.defs.sensors.stale_seasons import SeasonsCursor, stale_seasons_sensor
from f1_pipeline.settings import Settings
from f1_pipeline_tests.conftest import SAMPLE_SOURCE, local_settings
from f1_pipeline_tests.defs.sensors.helpers import Platform, execute
from f1_pipeline_tests.reference_pandas import stats_by_season

RACES, RESULTS = layout.source_csv("races"), layout.source_csv("results")


@pytest.fixture(params=["local", "s3"])
def platform(request, tmp_path, spark):
    if request.param == "local":
        settings = local_settings(tmp_path / "data")
    else:
        bucket = request.getfixturevalue("bucket")
        settings = Settings.from_env({**os.environ, "F1_DATA_ROOT": f"s3://{bucket}"})
    with instance_for_test() as instance:
        yield Platform(settings, instance)


def upload(platform: Platform, races: bytes, results: bytes) -> None:
    platform.storage.write_bytes(RACES, races)
    platform.storage.write_bytes(RESULTS, results)


def sample() -> tuple[bytes, bytes]:
    return (SAMPLE_SOURCE / "races.csv").read_bytes(), (SAMPLE_SOURCE / "results.csv").read_bytes()


def without_season(races: bytes, results: bytes, season: int) -> tuple[bytes, bytes]:
    """The upload with one season's races (and their results) removed."""
    race_lines = races.decode().splitlines(keepends=True)
    gone = {line.split(",")[0] for line in race_lines[1:] if line.split(",")[1] == str(season)}
    keep_races = [line for line in race_lines if line.split(",")[0] not in gone]
    result_lines = results.decode().splitlines(keepends=True)
    keep_results = [result_lines[0]] + [
        line for line in result_lines[1:] if line.split(",")[1] not in gone
    ]
    return "".join(keep_races).encode(), "".join(keep_results).encode()


def published(platform: Platform) -> dict[int, list]:
    files = platform.storage.list(layout.RESULTS_PREFIX)
    return {
        int(o.key.rsplit("_", 1)[1].removesuffix(".json")): json.loads(
            platform.storage.read_bytes(o.key)
        )
        for o in files
        if o.key.startswith(f"{layout.RESULTS_PREFIX}stats_")
    }


def clean_run(tmp_path, races: bytes, results: bytes) -> dict[int, list]:
    """What a clean run on this upload publishes (an independent pandas implementation)."""
    folder = tmp_path / f"reference-{time.monotonic_ns()}"
    folder.mkdir()
    (folder / "races.csv").write_bytes(races)
    (folder / "results.csv").write_bytes(results)
    return stats_by_season(folder / "races.csv", folder / "results.csv")


def test_a_withdrawn_season_is_unpublished_and_its_partition_removed(platform, tmp_path):
    upload(platform, *sample())
    platform.react()
    assert sorted(published(platform)) == list(range(2018, 2025))

    smaller = without_season(*sample(), 2018)
    upload(platform, *smaller)
    runs = platform.react()
    assert all(result.success for _, result in runs)
    assert published(platform) == clean_run(tmp_path, *smaller)
    assert not platform.storage.exists(layout.stats_parquet(2018))
    entry = read_json(platform.storage, layout.manifest())["seasons"]["2018"]
    commit = read_commit(platform.storage)
    assert entry["withdrawn"] is True
    assert entry["sources"] == commit["sources"]  # the upload that withdrew it
    assert entry["withdrawn_by_ingest"] == commit["ingest_run_id"]
    assert "2018" not in platform.instance.get_dynamic_partitions("seasons")
    # Every season published from the current upload; nothing else is stale.
    assert platform.tick(stale_seasons_sensor).skip_message == "every season is up to date"


def test_a_file_replaced_and_put_back_during_an_ingest_converges(platform, tmp_path):
    races, results = sample()
    upload(platform, races, results)
    platform.tick(source_data_sensor)  # settle
    [first] = platform.tick(source_data_sensor).run_requests
    # Before that ingest runs, the provider replaces results.csv ...
    edited = results + b"99001,1133,1,1,01:20.0\r\n"
    platform.storage.write_bytes(RESULTS, edited)
    execute(platform.defs, platform.instance, source_data_sensor, first)
    platform.react()
    assert published(platform) == clean_run(tmp_path, races, edited)
    # ... and puts the first version back: re-ingested, though it was "seen" before.
    platform.storage.write_bytes(RESULTS, results)
    platform.react()
    assert published(platform) == clean_run(tmp_path, races, results)
    sources = read_commit(platform.storage)["sources"]
    assert sources["results"]["checksum"] == platform.storage.info(RESULTS).checksum


def test_an_interrupted_cleaned_publish_is_reingested(platform, tmp_path):
    upload(platform, *sample())
    platform.react()
    before = published(platform)
    # An ingest killed after publishing one table, before its commit record.
    platform.storage.write_bytes(layout.cleaned_parquet("races"), b"not what the record names")
    assert platform.tick(source_data_sensor).run_requests == []  # settling
    [request] = platform.tick(source_data_sensor).run_requests
    assert execute(platform.defs, platform.instance, source_data_sensor, request).success
    platform.react()
    assert published(platform) == before
    assert platform.tick(source_data_sensor).skip_message == (
        "the cleaned layer is built from the current upload"
    )


def test_a_failed_ingest_is_requested_again(platform, monkeypatch):
    upload(platform, *sample())
    platform.tick(source_data_sensor)
    [request] = platform.tick(source_data_sensor).run_requests
    listing = request.tags[SOURCE_CHECKSUMS_TAG]
    # That run failed (a transient error, a kill): it is retried once its backoff passed.
    create_run_for_test(
        platform.instance, job_name="ingest_job", status=DagsterRunStatus.FAILURE,
        tags={SOURCE_CHECKSUMS_TAG: listing},
    )  # fmt: skip
    assert platform.tick(source_data_sensor).run_requests == []  # backoff
    cursor = SourceCursor.load(platform.cursors[source_data_sensor.name])
    monkeypatch.setattr(source_data.time, "time", lambda: cursor.retry_at + 1)
    [again] = platform.tick(source_data_sensor).run_requests
    assert again.run_key != request.run_key
    assert listing_tag(json.loads(again.tags[SOURCE_CHECKSUMS_TAG])) == listing


def test_a_failed_season_run_is_requested_again(platform, monkeypatch):
    upload(platform, *sample())
    platform.tick(source_data_sensor)
    [ingest] = platform.tick(source_data_sensor).run_requests
    execute(platform.defs, platform.instance, source_data_sensor, ingest)
    [request] = platform.tick(stale_seasons_sensor).run_requests
    create_run_for_test(
        platform.instance, job_name="season_stats_job", status=DagsterRunStatus.FAILURE,
        tags={STALE_SEASONS_TAG: request.tags[STALE_SEASONS_TAG]},
    )  # fmt: skip
    assert "retrying in" in platform.tick(stale_seasons_sensor).skip_message
    cursor = SeasonsCursor.load(platform.cursors[stale_seasons_sensor.name])
    monkeypatch.setattr(stale_seasons.time, "time", lambda: cursor.retry_at + 1)
    [again] = platform.tick(stale_seasons_sensor).run_requests
    assert again.run_key != request.run_key


def test_the_season_run_follows_an_ingest_within_the_tick(platform, monkeypatch):
    """The hand-over: a tick that finds an ingest under way waits for its end and requests
    the seasons at once; an ingest still running when the wait is over means a skip."""
    upload(platform, *sample())
    platform.tick(source_data_sensor)
    [ingest] = platform.tick(source_data_sensor).run_requests
    execute(platform.defs, platform.instance, source_data_sensor, ingest)
    running = create_run_for_test(
        platform.instance, job_name="ingest_job", status=DagsterRunStatus.STARTED
    )
    monkeypatch.setattr(stale_seasons, "HANDOVER_SECONDS", 0.5)
    assert platform.tick(stale_seasons_sensor).skip_message == (
        "an ingest or season run is in progress"
    )
    monkeypatch.setattr(stale_seasons, "HANDOVER_SECONDS", 30.0)
    ends = threading.Timer(1.0, platform.instance.report_run_canceled, [running])
    started = time.monotonic()
    ends.start()
    try:
        [request] = platform.tick(stale_seasons_sensor).run_requests
    finally:
        ends.join()
    assert 1.0 <= time.monotonic() - started < 10.0
    assert request.tags[STALE_SEASONS_TAG]


def test_a_refused_upload_is_not_retried_and_outputs_stay(platform, tmp_path):

    races, results = sample()
    upload(platform, races, results)
    platform.react()
    before = published(platform)
    platform.storage.write_bytes(RACES, races.replace(b"1121,2024,1,", b"1121,2024,-1,"))
    runs = platform.react()
    assert [result.success for _, result in runs] == [False]  # one attempt, no loop
    assert "upload refused" in platform.tick(source_data_sensor).skip_message
    assert published(platform) == before
