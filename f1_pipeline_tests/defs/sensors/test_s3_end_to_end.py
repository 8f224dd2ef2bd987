"""Upload → sensors → runs → stats in the bucket, against moto's S3 server over HTTP."""

from __future__ import annotations

import json
import time

import pytest
from dagster import instance_for_test

from f1_pipeline.cli import main
from f1_pipeline.core.storage import layout
from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.resources import storage_resource
from f1_pipeline.defs.sensors.source_data import source_data_sensor
from f1_pipeline.defs.sensors.stale_seasons import stale_seasons_sensor
from f1_pipeline.settings import Settings
from f1_pipeline_tests.conftest import SAMPLE_SOURCE
from f1_pipeline_tests.defs.sensors.helpers import execute, materialized_partitions, tick

PREFIX = "f1/"


class Platform:
    """The code location over one bucket, with the sensors' cursors, ticked by hand."""

    def __init__(self, bucket, instance):
        self.settings = Settings.from_env()
        self.defs = build_definitions(self.settings)
        self.storage_resource = storage_resource(self.settings)
        self.storage = self.storage_resource.get()
        self.instance = instance
        self.cursors = {}

    def tick(self, sensor):
        cursor = self.cursors.get(sensor.name)
        data = tick(sensor, self.instance, self.storage_resource, cursor, self.defs)
        self.cursors[sensor.name] = data.cursor
        return data

    def react(self) -> list:
        """Tick until the sensors are quiet, running what they request; return the runs."""
        results = []
        for _ in range(6):
            requested = False
            for sensor in (source_data_sensor, stale_seasons_sensor):
                for request in self.tick(sensor).run_requests:
                    requested = True
                    results.append(
                        (sensor.name, execute(self.defs, self.instance, sensor, request))
                    )
            if not requested and results:
                break
        return results


@pytest.fixture
def platform(bucket, monkeypatch, spark):
    monkeypatch.setenv("F1_DATA_ROOT", f"s3://{bucket}/{PREFIX}")
    with instance_for_test() as instance:
        yield Platform(bucket, instance)


def _stats(s3_client, bucket, season):
    body = s3_client.get_object(Bucket=bucket, Key=f"{PREFIX}results/stats_{season}.json")["Body"]
    return json.loads(body.read())


def _versions(s3_client, bucket, key):
    listed = s3_client.list_object_versions(Bucket=bucket, Prefix=f"{PREFIX}{key}")
    return [v for v in listed.get("Versions", []) if v["Key"] == f"{PREFIX}{key}"]


def test_upload_publishes_then_republishes_only_changed_seasons(
    platform, bucket, s3_client, expected_dir, tmp_path
):
    # 1. First upload: every season is computed, in one ingest and one season run.
    assert (
        main(["upload", str(SAMPLE_SOURCE / "races.csv"), str(SAMPLE_SOURCE / "results.csv")]) == 0
    )
    runs = platform.react()
    assert [name for name, _ in runs] == ["source_data_sensor", "stale_seasons_sensor"]
    assert all(result.success for _, result in runs)
    assert materialized_partitions(runs[1][1]) == [str(y) for y in range(2018, 2025)]
    for season in range(2018, 2025):
        want = json.loads((expected_dir / f"stats_{season}.json").read_text())
        assert _stats(s3_client, bucket, season) == want

    # Lineage: the manifest and the metadata name the uploaded object versions.
    uploaded = {
        t: _versions(s3_client, bucket, layout.source_csv(t))[0]["VersionId"]
        for t in ("races", "results")
    }
    manifest = json.loads(
        s3_client.get_object(Bucket=bucket, Key=f"{PREFIX}results/_manifest.json")["Body"].read()
    )
    entry = manifest["seasons"]["2024"]
    assert {t: entry["sources"][t]["version_id"] for t in uploaded} == uploaded
    assert entry["files"][layout.stats_json(2024)]
    mat = runs[1][1].get_asset_materialization_events()[0].event_specific_data.materialization
    versions = mat.metadata["source_versions"].value
    assert {t: versions[t] for t in uploaded} == uploaded  # each file's S3 VersionId

    # 2. An upload adding results for one 2024 race (the Hungarian GP, raceId 1133)
    #    recomputes only the 2024 partition; the old stats_2024.json version is kept.
    changed = tmp_path / "results.csv"
    changed.write_bytes(
        (SAMPLE_SOURCE / "results.csv").read_bytes() + b"99001,1133,1,1,01:20.0\r\n"
    )
    assert main(["upload", str(changed)]) == 0
    runs = platform.react()
    assert [name for name, _ in runs] == ["source_data_sensor", "stale_seasons_sensor"]
    assert materialized_partitions(runs[1][1]) == ["2024"]
    hungary = next(r for r in _stats(s3_client, bucket, 2024) if r["Race Round"] == 13)
    assert (hungary["Race Winning driverId"], hungary["Race Fastest Lap"]) == (1, "01:20.0")
    assert len(_versions(s3_client, bucket, layout.stats_json(2024))) == 2
    assert len(_versions(s3_client, bucket, layout.stats_json(2023))) == 1

    # 3. Re-uploading identical content: a new S3 version, same ETag, no run at all.
    assert main(["upload", str(changed)]) == 0
    assert len(_versions(s3_client, bucket, layout.source_csv("results"))) == 3
    assert platform.react() == []
    assert platform.tick(source_data_sensor).skip_message == (
        "the cleaned layer is built from the current upload"
    )


def test_two_uploads_in_the_same_second_are_both_seen(platform, bucket, s3_client, tmp_path):
    # A first state, fully ingested.
    assert (
        main(["upload", str(SAMPLE_SOURCE / "races.csv"), str(SAMPLE_SOURCE / "results.csv")]) == 0
    )
    platform.tick(source_data_sensor)
    assert len(platform.tick(source_data_sensor).run_requests) == 1

    races = tmp_path / "races.csv"
    races.write_bytes(
        (SAMPLE_SOURCE / "races.csv").read_bytes() + b"2000,2025,1,New,2025-03-16,null\r\n"
    )
    results = tmp_path / "results.csv"
    results.write_bytes(
        (SAMPLE_SOURCE / "results.csv").read_bytes() + b"99002,2000,1,1,01:21.0\r\n"
    )
    # Start just after a second boundary so both writes share LastModified's second.
    time.sleep(1 - time.time() % 1 + 0.01)
    platform.storage.publish_file(races, layout.source_csv("races"))
    seen_races_only = platform.tick(source_data_sensor)
    platform.storage.publish_file(results, layout.source_csv("results"))
    stamps = {
        t: s3_client.head_object(Bucket=bucket, Key=f"{PREFIX}source-data/{t}.csv")["LastModified"]
        for t in ("races", "results")
    }
    assert stamps["races"] == stamps["results"]  # same second: a time cursor would miss one
    assert seen_races_only.run_requests == []
    assert "changed; waiting one tick for the upload to settle" in seen_races_only.skip_message

    settled = platform.tick(source_data_sensor)
    assert settled.run_requests == []  # the listing changed again: wait one more tick
    [request] = platform.tick(source_data_sensor).run_requests
    checksums = json.loads(request.tags["f1/source_checksums"])
    assert checksums == {o.key: o.checksum for o in platform.storage.list("source-data/")}
