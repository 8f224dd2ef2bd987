"""Glue mode end to end: the Dagster side is GlueSpark (a Dagster Pipes session with
dagster-aws's S3 context injector and message reader), the job side the deployed entry
script, run by the local Glue stand-in."""

from __future__ import annotations

import io
import json
import subprocess

import pyarrow.parquet as pq
import pytest
from dagster import DagsterEventType, DagsterInstance

from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline.definitions import build_definitions
from f1_pipeline_tests.conftest import local_env
from f1_pipeline_tests.runs import publish, season_events

pytestmark = pytest.mark.glue  # runs jobs in the Glue stand-in: not in `make test-fast`

SEASONS = list(range(2018, 2025))


def _job_spark_version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('pyspark'))"
    return subprocess.run([python, "-c", code], capture_output=True, text=True).stdout.strip()


def _outputs(storage) -> dict[str, object]:
    """Everything a reader consumes, parsed: stats JSON, season tables, cleaned tables."""
    found: dict[str, object] = {}
    for season in SEASONS:
        found[layout.stats_json(season)] = json.loads(storage.read_bytes(layout.stats_json(season)))
        table = pq.read_table(io.BytesIO(storage.read_bytes(layout.stats_parquet(season))))
        found[layout.stats_parquet(season)] = (table.schema, table.to_pylist())
    for table_name in layout.SOURCE_TABLES:
        table = pq.read_table(io.BytesIO(storage.read_bytes(layout.cleaned_parquet(table_name))))
        rows = sorted(table.to_pylist(), key=lambda r: r["source_line"])
        found[layout.cleaned_parquet(table_name)] = (table.schema, rows)
    return found


def test_glue_mode_equals_local_mode(
    glue_defs, instance, s3_storage, local_glue, glue_job, data_root, spark
):
    run = publish(glue_defs, instance)
    assert len(run.run_ids) == 1  # one Dagster run for the upload

    # The same pipeline on the local session, over a local root with the same sources.
    with DagsterInstance.ephemeral() as local_instance:
        publish(build_definitions(local_env(data_root)), local_instance)
    glue_out, local_out = _outputs(s3_storage), _outputs(LocalStorage(data_root))
    assert list(glue_out) == list(local_out)
    for key, value in local_out.items():
        assert glue_out[key] == value, key  # parsed, element order included

    # One Glue job run per step, each launched through Pipes and succeeded: one for the
    # whole ingest (both tables), one for the season stats.
    assert [r.state for r in local_glue.runs.values()] == ["SUCCEEDED"] * 2
    run_ids = set(local_glue.runs)
    by_asset = {m.asset: m.metadata for m in run.materialized if not m.partition}
    by_season = season_events(run)
    assert by_asset["cleaned/races"]["dagster/row_count"] == 149
    assert by_asset["cleaned/results"]["dagster/row_count"] == 2739
    assert by_asset["cleaned/races"]["seasons"] == SEASONS
    for metadata in [by_asset["cleaned/races"], by_asset["cleaned/results"], by_season["2018"]]:
        # What the job run cost and where to look at it.
        assert metadata["glue/job_run_id"] in run_ids
        assert metadata["glue/job_run_state"] == "SUCCEEDED"
        assert metadata["glue/dpu_seconds"] >= 120.0  # 2 x G.1X, at least one billed minute
        assert f"#/job/{glue_job}/run/{metadata['glue/job_run_id']}" in metadata["glue/console_url"]
        assert metadata["spark_mode"] == "glue"
    assert sorted(by_season) == [str(s) for s in SEASONS]
    assert by_season["2024"]["dagster/partition_row_count"] == 24
    assert sum(m["dagster/partition_row_count"] for m in by_season.values()) == 149
    # Partition keys reached the job through Pipes: it published exactly those seasons.
    manifest = json.loads(s3_storage.read_bytes(layout.manifest()))
    assert sorted(manifest["seasons"]) == [str(s) for s in SEASONS]
    assert {e["run_id"] for e in manifest["seasons"].values()} == set(run.run_ids)

    # Check results reported by the job landed as the blocking checks' evaluations.
    checks = instance.all_logs(run.run_ids[0], of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    assert {
        r.dagster_event.event_specific_data.check_name: r.dagster_event.event_specific_data.passed
        for r in checks
    } == {
        "race_id_unique": True,
        "season_round_unique": True,
        "no_published_data_removed": True,
        "result_id_unique": True,
        "race_id_in_races": True,
        "results_up_to_date": False,  # evaluated by Dagster: the sample is late
        # Read back by Dagster from S3: the files are the versions the job recorded.
        "published_files_agree": True,
    }
    # The job's log lines came back through Pipes messages.
    messages = [r.user_message for r in instance.all_logs(run.run_ids[0])]
    assert any("published 14 files for 7 season(s)" in m for m in messages)
    # ... and it ran the deployed wheel's code, not this checkout's.
    (started,) = [m for m in messages if "step season_stats on local Spark" in m]
    assert f"from {local_glue.workdir}" in started
    assert "/site/f1_pipeline" in started
    # ... on the Spark line of the job's interpreter (Glue 5's in the Spark 3.5 lane).
    assert f"local Spark {_job_spark_version(local_glue.python)} with" in started
    # Pipes' scratch objects and the steps' staging are gone.
    assert s3_storage.list(layout.PIPES_PREFIX) == []
    assert s3_storage.list(f"{layout.CLEANED_PREFIX}_staging/") == []
