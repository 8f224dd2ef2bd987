"""The real thing: `dagster dev` (webserver + daemon) watching a bucket on moto's S3 server.

Uploading the sample is all it takes for the golden stats to appear — even when the run
doing it is killed (SIGKILL) halfway: Dagster's run retries run it again (a run whose
process died; never one whose step failed). A burst of uploads becomes at most two runs and
ends as the last upload. Meanwhile a reader polling the bucket never sees a partial or
unreadable file.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time

import pyarrow.parquet as pq
import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from f1_pipeline.cli import main
from f1_pipeline.defs.instance import prepare_home
from f1_pipeline_tests.conftest import SAMPLE_SOURCE
from f1_pipeline_tests.e2e.dagster_dev import dagster_dev, wait_until
from f1_pipeline_tests.reference_pandas import stats_by_season

pytestmark = pytest.mark.e2e


class Reader(threading.Thread):
    """Reads every published object in a loop, as a consumer would; collects failures."""

    def __init__(self, s3_client, bucket: str) -> None:
        super().__init__(daemon=True)
        self.s3, self.bucket, self.errors, self.reads = s3_client, bucket, [], 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for obj in self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", []):
                key = obj["Key"]
                try:
                    body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                except self.s3.exceptions.NoSuchKey:
                    continue  # withdrawn between list and get
                try:
                    if key.endswith(".json"):
                        json.loads(body)
                    elif key.endswith(".parquet") and "/_staging/" not in key:
                        pq.read_table(io.BytesIO(body))
                except Exception as err:  # a partial or mixed file: the failure we look for
                    self.errors.append(f"{key}: {err}")
                self.reads += 1
            time.sleep(0.05)


def _published(s3_client, bucket: str) -> dict[int, list]:
    found = {}
    for obj in s3_client.list_objects_v2(Bucket=bucket, Prefix="results/stats_").get(
        "Contents", []
    ):
        season = int(obj["Key"].removeprefix("results/stats_").removesuffix(".json"))
        found[season] = json.loads(
            s3_client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
        )
    return found


def _requested(instance: DagsterInstance) -> list:
    """The runs the sensors requested (Dagster's own retries of a run excluded)."""
    runs = instance.get_runs(RunsFilter(job_name="f1_job"))
    return [r for r in runs if "dagster/retry_number" not in r.tags]


def _kill_when_started(instance: DagsterInstance, job: str, after: float, log) -> str:
    """SIGKILL the process of ``job``'s next run ``after`` seconds after its step has its
    Spark session (an embedded JVM or the Connect server: the work is under way either way)."""

    def in_spark():
        runs = instance.get_runs(RunsFilter(job_name=job, statuses=[DagsterRunStatus.STARTED]))
        for run in runs:
            if any("Spark: " in (r.user_message or "") for r in instance.all_logs(run.run_id)):
                return run
        return None

    run = wait_until(in_spark, 180, f"a {job} run to start its Spark work", log, interval=0.1)
    time.sleep(after)
    # The run worker records its process id ("Started process for run (pid: N)"); with the
    # in-process executor the steps run in that very process.
    for record in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT):
        metadata = record.dagster_event.event_specific_data.metadata if record.dagster_event else {}
        if "pid" in metadata:
            os.kill(int(metadata["pid"].value), signal.SIGKILL)
            return run.run_id

    raise AssertionError(f"no process id recorded for run {run.run_id}")


def test_uploads_survive_killed_runs_and_bursts(
    bucket, s3_client, tmp_path, expected_dir, monkeypatch
):
    home = prepare_home(tmp_path / "dagster_home")
    monkeypatch.setenv("F1_DATA_ROOT", f"s3://{bucket}")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    log = tmp_path / "dagster-dev.log"
    races, results = SAMPLE_SOURCE / "races.csv", SAMPLE_SOURCE / "results.csv"
    reader = Reader(s3_client, bucket)
    # The instance is opened once `dagster dev` has created its storage (two processes
    # creating the same SQLite schema at once corrupt it).
    with dagster_dev(log), DagsterInstance.from_config(str(home)) as inst:
        reader.start()
        # 1. The first upload; its run is killed while it cleans and publishes.
        assert main(["upload", str(races), str(results)]) == 0
        killed = _kill_when_started(inst, "f1_job", 0.5, log)
        golden = {
            s: json.loads((expected_dir / f"stats_{s}.json").read_text()) for s in range(2018, 2025)
        }
        wait_until(lambda: _published(s3_client, bucket) == golden, 300, "the golden stats", log)
        assert inst.get_run_by_id(killed).status == DagsterRunStatus.FAILURE
        [retry] = [r for r in inst.get_runs() if r.parent_run_id == killed]  # Dagster's retry
        wait_until(
            lambda: inst.get_run_by_id(retry.run_id).status == DagsterRunStatus.SUCCESS,
            120, "the retry to end", log,
        )  # fmt: skip

        # 2. A burst: 20 uploads within 10 s become at most two runs; one is killed while it
        #    works. The end state is the last upload's.
        before = len(_requested(inst))
        edited = tmp_path / "results.csv"
        for n in range(20):
            edited.write_bytes(results.read_bytes() + f"99001,1133,{n + 1},1,01:20.0\r\n".encode())
            assert main(["upload", str(edited)]) == 0
            time.sleep(0.5)
        _kill_when_started(inst, "f1_job", 0.1, log)
        want = stats_by_season(races, edited)
        wait_until(lambda: _published(s3_client, bucket) == want, 300, "the last upload", log)
        assert len(_requested(inst)) - before <= 2
        reader.done.set()
    reader.join()
    assert reader.reads > 100
    assert reader.errors == []
