"""The real thing again (`dagster dev`: webserver and daemon, moto S3 on loopback), for the
uploads a data provider actually sends: a truncated upload is held (nothing deleted, an alert
sent, never retried), accepted by name from the command line (the seasons withdrawn, their
old versions kept); an exact revert is ingested within one sensor round; a rollback goes
through the daemon's queue and leaves every version in place; and, with no upload bringing
a late race's results, the freshness check turns red on its own schedule (its tick time is
the clock) and alerts once."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

from f1_pipeline.cli import main
from f1_pipeline.core.upload import look
from f1_pipeline.defs.instance import prepare_home
from f1_pipeline.defs.sensors.runs import IN_FLIGHT
from f1_pipeline_tests.conftest import SAMPLE_SOURCE, storage_at
from f1_pipeline_tests.e2e.dagster_dev import dagster_dev, wait_until
from f1_pipeline_tests.reference_pandas import stats_by_season
from f1_pipeline_tests.webhook import Webhook

pytestmark = pytest.mark.e2e


def _upload(tmp_path, name: str, races: bytes, results: bytes) -> None:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "races.csv").write_bytes(races)
    (folder / "results.csv").write_bytes(results)
    assert main(["upload", str(folder / "races.csv"), str(folder / "results.csv")]) == 0


def _dataset(race_start: datetime) -> tuple[bytes, bytes]:
    """The sample's races that have results (2018 .. 2024 round 12), and one more race
    starting at ``race_start``, without results yet."""
    races = (SAMPLE_SOURCE / "races.csv").read_bytes().splitlines(keepends=True)
    kept = [races[0]] + [
        r for r in races[1:] if not (r.split(b",")[1] == b"2024" and int(r.split(b",")[2]) > 12)
    ]
    extra = (
        f"9001,{race_start.year},30,Late Grand Prix,{race_start:%Y-%m-%d},{race_start:%H:%M:%S}\r\n"
    )
    ids = {r.split(b",")[0] for r in kept[1:]}
    results = (SAMPLE_SOURCE / "results.csv").read_bytes().splitlines(keepends=True)
    kept_results = [results[0]] + [r for r in results[1:] if r.split(b",")[1] in ids]
    return b"".join(kept) + extra.encode(), b"".join(kept_results)


def _published(storage) -> dict[int, list]:
    return {
        int(o.key.removeprefix("results/stats_").removesuffix(".json")): json.loads(
            storage.read_bytes(o.key)
        )
        for o in storage.list("results/stats_")
    }


def _files(s3, bucket) -> dict[str, bytes]:
    """Every published file's bytes (the records beside them aside)."""
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="results/").get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed
            if not o["Key"].rsplit("/", 1)[-1].startswith("_")}  # fmt: skip


def _keep(races: bytes, results: bytes, seasons: set[int]) -> tuple[bytes, bytes]:
    lines = races.splitlines(keepends=True)
    kept = [lines[0]] + [r for r in lines[1:] if int(r.split(b",")[1]) in seasons]
    ids = {r.split(b",")[0] for r in kept[1:]}
    result_lines = results.splitlines(keepends=True)
    return b"".join(kept), b"".join(
        [result_lines[0]] + [r for r in result_lines[1:] if r.split(b",")[1] in ids]
    )


def _reference(tmp_path, races: bytes, results: bytes) -> dict[int, list]:
    folder = tmp_path / f"ref-{time.monotonic_ns()}"
    folder.mkdir()
    (folder / "r.csv").write_bytes(races)
    (folder / "s.csv").write_bytes(results)
    return stats_by_season(folder / "r.csv", folder / "s.csv")


def test_held_accepted_reverted_rolled_back_and_late(
    bucket, s3_client, tmp_path, monkeypatch, capsys
):
    hook = Webhook()
    home = prepare_home(tmp_path / "dagster_home")
    # The next race started 36 h ago, less 75 s: the freshness check is green after the first
    # upload, and red at the first schedule tick past that point, with no upload.
    late_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=36) + timedelta(seconds=75)
    for name, value in {
        "F1_DATA_ROOT": f"s3://{bucket}",
        "DAGSTER_HOME": str(home),
        "F1_ALERT_WEBHOOK_URL": hook.url,
        "F1_FRESHNESS_CRON": "* * * * *",  # every minute, to see it turn in a test
    }.items():
        monkeypatch.setenv(name, value)
    storage = storage_at(f"s3://{bucket}")
    log = tmp_path / "dagster-dev.log"
    races, results = _dataset(late_at)
    with dagster_dev(log) as url, DagsterInstance.from_config(str(home)) as instance:
        monkeypatch.setenv("F1_DAGSTER_URL", url)
        _upload(tmp_path, "a", races, results)
        want = _reference(tmp_path, races, results)
        wait_until(lambda: _published(storage) == want, 240, "the first upload published", log)

        def freshness_alerts() -> list[dict]:
            return [a for a in hook.received if a.get("alert") == "f1-pipeline results freshness"]

        assert freshness_alerts() == []  # green after the ingest

        # 1. No upload: the freshness schedule's tick, at its own time, turns the check red
        #    and it alerts once (still red at later ticks and uploads: no second alert).
        wait_until(lambda: freshness_alerts(), 240, "the freshness alert", log)
        [late] = freshness_alerts()
        assert late["state"] == "failing"
        assert "Late Grand Prix" in late["text"]
        late_run = instance.get_run_by_id(late["run_id"])
        assert late_run is not None
        assert late_run.job_name == "freshness_check_job"

        # 2. A truncated upload: held. Nothing deleted, the failure alerted, never retried.
        versions_before = {
            v["Key"]: v["VersionId"]
            for v in s3_client.list_object_versions(Bucket=bucket, Prefix="results/")["Versions"]
        }
        cut = _keep(races, results, {2022, 2023, 2024, late_at.year})
        _upload(tmp_path, "cut", *cut)
        uid = look(storage).upload
        wait_until(
            lambda: any(" held: " in a.get("text", "") for a in hook.received),
            180,
            "the alert",
            log,
        )
        [alert] = [a for a in hook.received if " held: " in a.get("text", "")]
        assert "would withdraw 2018, 2019, 2020, 2021 (published)" in alert["text"]
        assert _published(storage) == want  # nothing deleted
        time.sleep(12)  # two more sensor rounds and a run-retry daemon cycle
        held_runs = [r for r in instance.get_runs() if r.status == DagsterRunStatus.FAILURE]
        assert len(held_runs) == 1
        assert not any(r.parent_run_id for r in instance.get_runs())  # not re-run by Dagster

        # 3. Accepted by name: the seasons are withdrawn, their old versions kept.
        assert main(["accept", uid]) == 0
        want = _reference(tmp_path, *cut)
        wait_until(lambda: _published(storage) == want, 180, "the accepted upload", log)
        for key in (
            "results/stats_2018.json",
            "results/season_stats/season=2018/season_stats.parquet",
        ):
            old = s3_client.get_object(Bucket=bucket, Key=key, VersionId=versions_before[key])
            assert old["Body"].read()

        # 4. A -> B -> A: the exact revert is ingested within one sensor round.
        corrected = cut[1].replace(b"26505,1132,1,1,01:29.4", b"26505,1132,1,1,01:29.3")
        _upload(tmp_path, "b", cut[0], corrected)
        want_b = _reference(tmp_path, cut[0], corrected)
        wait_until(lambda: _published(storage) == want_b, 120, "the correction", log)
        wait_until(lambda: not instance.get_runs(RunsFilter(statuses=IN_FLIGHT)), 120,
                   "the correction's run to end (its Parquet files too)", log)  # fmt: skip
        uid_b, files_b = look(storage).upload, _files(s3_client, bucket)
        runs_before = len(instance.get_runs())
        uploaded = time.monotonic()
        _upload(tmp_path, "a-again", *cut)
        wait_until(lambda: len(instance.get_runs()) > runs_before, 60, "the revert's run", log, 0.2)
        assert time.monotonic() - uploaded < 12  # one 5 s round, its 1.5 s settle, the launch
        wait_until(lambda: _published(storage) == want, 120, "the revert published", log)

        # 5. Rollback to B, submitted to the daemon's queue: every published file is B's
        #    again, byte for byte, and every version of every upload is still there.
        capsys.readouterr()
        assert main(["rollback", uid_b]) == 0
        assert "submitted to the daemon's queue" in capsys.readouterr().out
        assert _files(s3_client, bucket) == files_b
        sources = s3_client.list_object_versions(Bucket=bucket, Prefix="source-data/results.csv")
        assert len(sources["Versions"]) == 5  # A, cut, B, cut again, B again: none deleted

        assert len(freshness_alerts()) == 1  # red all along: alerted once
