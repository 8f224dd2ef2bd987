"""What stays true across uploads, failures and code changes, through Dagster's own sensor
daemon and run queue (run keys honoured, pools claimed), on a local root and on S3 (moto on
loopback): published stats end up equal to what a clean run on the last accepted upload
publishes; an upload that would remove published data is held until accepted; a run that
failed is not requested again until something changes."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from f1_pipeline.core.holds import accept
from f1_pipeline.core.lineage import read_commit, read_json, write_commit, write_json
from f1_pipeline.core.storage import layout
from f1_pipeline.core.upload import look
from f1_pipeline.defs.constants import STATE_TAG
from f1_pipeline_tests.conftest import SAMPLE_SOURCE, storage_at
from f1_pipeline_tests.defs.sensors.daemon import daemon
from f1_pipeline_tests.reference_pandas import stats_by_season

pytestmark = pytest.mark.full  # the full tier: see docs/testing.md

RACES, RESULTS = layout.source_csv("races"), layout.source_csv("results")
SENSOR = "source_data_sensor"


class World:
    """A data root, the daemon's loops over it, and what a clean run publishes."""

    def __init__(self, root: str, daemon, tmp_path) -> None:
        self.daemon, self.tmp_path = daemon, tmp_path
        self.storage = storage_at(root)

    def upload(self, races: bytes, results: bytes) -> None:
        self.storage.write_bytes(RACES, races)
        self.storage.write_bytes(RESULTS, results)

    def published(self) -> dict[int, list]:
        files = self.storage.list(layout.RESULTS_PREFIX)
        return {
            int(o.key.rsplit("_", 1)[1].removesuffix(".json")): json.loads(
                self.storage.read_bytes(o.key)
            )
            for o in files
            if o.key.startswith(f"{layout.RESULTS_PREFIX}stats_")
        }

    def clean_run(self, races: bytes, results: bytes) -> dict[int, list]:
        """What a clean run on this upload publishes (an independent pandas implementation)."""
        folder = self.tmp_path / f"reference-{time.monotonic_ns()}"
        folder.mkdir()
        (folder / "races.csv").write_bytes(races)
        (folder / "results.csv").write_bytes(results)
        return stats_by_season(folder / "races.csv", folder / "results.csv")


@pytest.fixture(params=["local", "s3"])
def world(request, tmp_path, spark):
    if request.param == "local":
        env = {"F1_DATA_ROOT": str(tmp_path / "data")}
    else:
        env = {"F1_DATA_ROOT": f"s3://{request.getfixturevalue('bucket')}"}
    env["DAGSTER_HOME"] = str(tmp_path / "home")
    with daemon(tmp_path, env) as loops:
        yield World(env["F1_DATA_ROOT"], loops, tmp_path)


def sample() -> tuple[bytes, bytes]:
    return (SAMPLE_SOURCE / "races.csv").read_bytes(), (SAMPLE_SOURCE / "results.csv").read_bytes()


def keep_seasons(races: bytes, results: bytes, seasons: set[int]) -> tuple[bytes, bytes]:
    """The upload cut to ``seasons`` (their races and results), consistent with itself."""
    race_lines = races.decode().splitlines(keepends=True)
    kept = [race_lines[0]] + [r for r in race_lines[1:] if int(r.split(",")[1]) in seasons]
    ids = {r.split(",")[0] for r in kept[1:]}
    result_lines = results.decode().splitlines(keepends=True)
    keep_results = [result_lines[0]] + [r for r in result_lines[1:] if r.split(",")[1] in ids]
    return "".join(kept).encode(), "".join(keep_results).encode()


def with_result(results: bytes, n: int) -> bytes:
    """Another result for the 2024 British Grand Prix (a correction: nothing is removed)."""
    return results + f"{99000 + n},1132,{900 + n},20,01:40.0\r\n".encode()


def corrected_lap(results: bytes) -> bytes:
    """The winner's fastest lap of the 2024 British Grand Prix corrected."""
    return results.replace(b"26505,1132,1,1,01:29.4", b"26505,1132,1,1,01:29.3")


def test_an_upload_is_one_run_and_publishes_what_a_clean_run_does(world):
    world.upload(*sample())
    [run] = world.daemon.settle()
    assert run.status.value == "SUCCESS"
    assert run.tags["dagster/run_key"] == f"{SENSOR}-1"
    assert world.published() == world.clean_run(*sample())
    # Nothing is due any more: no run, and the tick says why.
    assert world.daemon.settle() == []
    assert "built from the current upload and code" in world.daemon.skip_reason(SENSOR)


def test_a_revert_is_ingested_again_within_one_round(world):
    races, results = sample()
    world.upload(races, results)
    world.daemon.settle()
    corrected = corrected_lap(results)
    world.upload(races, corrected)
    runs = world.daemon.settle()
    assert len(runs) == 1, world.daemon.skip_reason(SENSOR)
    [b] = runs
    assert world.published() == world.clean_run(races, corrected)
    # A -> B -> A: the exact revert is a new request (a new run key), launched at once.
    world.upload(races, results)
    runs = world.daemon.round()
    assert len(runs) == 1, world.daemon.skip_reason(SENSOR)
    [a_again] = runs
    assert a_again.status.value == "SUCCESS"
    assert a_again.tags["dagster/run_key"] != b.tags["dagster/run_key"]
    assert world.published() == world.clean_run(races, results)


def test_a_truncated_upload_is_held_then_published_once_accepted(world):
    races, results = sample()
    world.upload(races, results)
    world.daemon.settle()
    before = world.published()
    world.upload(*keep_seasons(races, results, {2022, 2023, 2024}))
    [held] = world.daemon.settle()
    assert held.status.value == "FAILURE"
    assert world.published() == before  # nothing deleted
    reason = world.daemon.skip_reason(SENSOR)
    assert "held" in reason
    assert "would withdraw 2018, 2019, 2020, 2021 (published)" in reason
    assert world.daemon.settle() == []  # held: never requested again by itself

    uid = look(world.storage).upload
    accept(world.storage, uid, {"via": "test"})  # what its hold record says it removes
    [accepted] = world.daemon.settle()
    assert accepted.status.value == "SUCCESS"
    assert world.published() == world.clean_run(*keep_seasons(races, results, {2022, 2023, 2024}))
    manifest = read_json(world.storage, layout.manifest())
    assert manifest["seasons"]["2018"]["withdrawn"] is True
    assert manifest["seasons"]["2018"]["accepted"]["upload"] == uid
    world.daemon.settle()
    assert "2018" not in world.daemon.instance.get_dynamic_partitions("seasons")


def test_a_failed_run_is_not_requested_again_until_something_changes(world):
    from f1_pipeline.core.steps import publish

    races, results = sample()
    world.upload(races, results)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the stats step")

    # Its own patch (undoing the test's monkeypatch would also undo aws_env's endpoint).
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(publish, "contract_json", broken)
        [failed] = world.daemon.settle()
        assert failed.status.value == "FAILURE"
        assert world.daemon.settle() == []  # no retry storm
        reason = world.daemon.skip_reason(SENSOR)
        assert f"run {failed.run_id} ended FAILURE after Dagster's retries" in reason
    # New data: requested again (a new state), and published.
    world.upload(races, with_result(results, 2))
    [again] = world.daemon.settle()
    assert again.status.value == "SUCCESS"
    assert again.tags[STATE_TAG] != failed.tags[STATE_TAG]


def test_a_refused_upload_is_one_run_and_outputs_stay(world):
    races, results = sample()
    world.upload(races, results)
    world.daemon.settle()
    before = world.published()
    world.upload(races.replace(b"1121,2024,1,", b"1121,2024,-1,"), results)
    [refused] = world.daemon.settle()
    assert refused.status.value == "FAILURE"
    assert world.daemon.settle() == []
    assert "upload refused" in world.daemon.skip_reason(SENSOR)
    assert world.published() == before


def test_new_code_republishes_every_season_in_one_run_unchanged_code_nothing(world):
    world.upload(*sample())
    world.daemon.settle()
    # What an earlier build of the stats code left: the same data, other code.
    manifest = read_json(world.storage, layout.manifest())
    for entry in manifest["seasons"].values():
        entry["code"] = {**entry["code"], "stats": "an-older-build"}
    write_json(world.storage, layout.manifest(), manifest)
    [run] = world.daemon.settle()
    assert run.status.value == "SUCCESS"
    events = world.daemon.instance.get_records_for_run(run.run_id).records
    seasons = {
        e.event_log_entry.dagster_event.partition
        for e in events
        if e.event_log_entry.dagster_event
        and e.event_log_entry.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
        and e.event_log_entry.dagster_event.partition
    }
    assert seasons == {str(s) for s in range(2018, 2025)}
    # And an earlier build of the cleaning code: re-ingested, then every season, one run.
    commit = read_commit(world.storage)
    write_commit(world.storage, dataclasses.replace(commit, code_version="old"))
    [reingest] = world.daemon.settle()
    assert reingest.status.value == "SUCCESS"
    assert read_commit(world.storage).ingest_run_id == reingest.run_id
    assert world.daemon.settle() == []  # the same build: nothing


def test_an_interrupted_cleaned_publish_is_ingested_again(world):
    world.upload(*sample())
    world.daemon.settle()
    before = world.published()
    # An ingest killed after publishing one table, before its commit record.
    world.storage.write_bytes(layout.cleaned_parquet("races"), b"not what the record names")
    [run] = world.daemon.settle()
    assert run.status.value == "SUCCESS"
    assert world.published() == before
    assert world.daemon.settle() == []
