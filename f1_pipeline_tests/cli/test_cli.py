from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from f1_pipeline.cli import main
from f1_pipeline.cli.seasons import parse_seasons
from f1_pipeline.core.storage import layout


def test_golden_run_through_the_console_script(data_root, tmp_path, expected_dir):
    home = tmp_path / "home"
    env = {
        **os.environ,
        "F1_DATA_ROOT": str(data_root),
        "DAGSTER_HOME": str(home),
        # A host far from UTC: every timestamp written must still be UTC.
        "TZ": "America/New_York",
    }
    script = os.path.join(os.path.dirname(sys.executable), "f1-pipeline")
    proc = subprocess.run(
        [script, "run"], env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    # A quiet console: our output only, no library warnings or Spark banners.
    assert proc.stderr == "", proc.stderr
    assert "run: ingest + 7 season(s) 2018..2024 (in this process)" in proc.stdout
    assert "summary: 7 season(s) 2018..2024, 7 rewritten, 0 unchanged, 14 files written" in (
        proc.stdout
    )
    # Long stages say how far they are, as they go.
    assert "\n    validate results\n" in proc.stdout
    assert "\n    season files written: 14/14\n" in proc.stdout

    expected = sorted(p.name for p in expected_dir.glob("stats_*.json"))
    assert sorted(p.name for p in (data_root / "results").glob("stats_*.json")) == expected
    for name in expected:
        got = json.loads((data_root / "results" / name).read_text(encoding="utf-8"))
        assert got == json.loads((expected_dir / name).read_text(encoding="utf-8")), name

    rows = pq.ParquetFile(data_root / layout.stats_parquet(2024)).read().to_pylist()
    british = next(r for r in rows if r["race_name"] == "British Grand Prix")
    assert british["race_start_utc"] == dt.datetime(2024, 7, 7, 14, 0, tzinfo=dt.UTC)
    manifest = json.loads((data_root / layout.manifest()).read_text())
    assert manifest["seasons"]["2024"]["published_at"].endswith("+00:00")

    # The runs are recorded in the persistent instance the UI reads.
    assert (home / "dagster.yaml").exists()
    with DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS]  # one run per upload


def _console_run(data_root, tmp_path, *args):
    env = {**os.environ, "F1_DATA_ROOT": str(data_root), "DAGSTER_HOME": str(tmp_path / "home"),
           "F1_DAGSTER_URL": "http://127.0.0.1:9"}  # fmt: skip
    script = os.path.join(os.path.dirname(sys.executable), "f1-pipeline")
    return subprocess.run(
        [script, "run", *args], env=env, capture_output=True, text=True, timeout=600
    )


def test_a_bad_cell_is_one_short_block_on_stderr(data_root, tmp_path):
    results = data_root / layout.source_csv("results")
    results.write_text(results.read_text().replace("26507,1132,846,", "26507,1132,driver846,", 1))
    proc = _console_run(data_root, tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == (
        "f1-pipeline: the upload was refused; nothing was published (previous outputs are "
        "unchanged):"
    )
    assert lines[1] == (
        f"  {results}, line 4, column 'driverId': cannot parse 'driver846' as an integer"
    )
    # No webserver at F1_DAGSTER_URL: the run is named, with how to see it.
    assert lines[2].startswith("  full log: run ")
    assert lines[2].endswith("(the Dagster UI: `make ui`; --verbose prints it here)")
    assert len(lines) == 3, proc.stderr


def test_runs_are_linked_when_the_webserver_is_up():
    from f1_pipeline.cli.launch import Console

    assert Console(ui_url="http://h:3000").runs(["a", "b"]) == (
        "http://h:3000/runs/a, http://h:3000/runs/b"
    )
    assert Console().runs(["a"]) == "run a"


def test_verbose_prints_dagsters_log_and_the_stack_trace(pipeline_env, capfd):
    results = pipeline_env / layout.source_csv("results")
    results.write_text(results.read_text().replace("26507,1132,846,", "26507,1132,driver846,", 1))
    assert main(["run", "--verbose"]) == 1
    err = capfd.readouterr().err
    assert "STEP_FAILURE" in err
    assert "InvalidInputError" in err
    assert len(err.splitlines()) > 20


def test_seasons_are_checked_before_any_work(pipeline_env, capsys, monkeypatch):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "--seasons", "1-20000000"])
    assert exit_.value.code == 2
    assert "use a list (2023,2024) or a range" in capsys.readouterr().err
    for text in ("1950-2100", "1949"):
        assert main(["run", "--seasons", text]) == 2
        assert "Formula 1 seasons run from 1950 to" in capsys.readouterr().err
    monkeypatch.setenv("F1_LATEST_SEASON", "2100")  # synthetic data may go further
    assert main(["run", "--seasons", "2101"]) == 2
    assert "from 1950 to 2100 (F1_LATEST_SEASON" in capsys.readouterr().err
    assert not (pipeline_env / "cleaned").exists()  # nothing ran


def test_run_selected_seasons_only(pipeline_env, capsys):
    assert main(["run", "--seasons", "2023,2024"]) == 0
    out = capsys.readouterr().out
    assert "season 2023: 22 races" in out
    assert "season 2024: 24 races" in out
    written = sorted(p.name for p in (pipeline_env / "results").glob("stats_*.json"))
    assert written == ["stats_2023.json", "stats_2024.json"]


def test_the_summary_of_a_run_without_per_season_facts(pipeline_env, capsys, monkeypatch):
    # Beyond PER_SEASON_METADATA_MAX seasons the events carry only the run's metadata (x1000
    # printed "0 races, 0 files written"): the summary reads the run's totals.
    from f1_pipeline.defs.assets import stats

    monkeypatch.setattr(stats, "PER_SEASON_METADATA_MAX", 3)
    assert main(["run"]) == 0
    out = capsys.readouterr().out
    assert "7 rewritten, 0 unchanged, 14 files written under" in out
    assert ", 149 races," in out
    assert main(["run"]) == 0  # the same upload again: every season unchanged
    assert "0 rewritten, 7 unchanged, 0 files written under" in capsys.readouterr().out


def test_unknown_season_is_a_clear_failure(pipeline_env, capsys):
    assert main(["run", "--seasons", "1999"]) == 1
    err = capsys.readouterr().err
    assert "season(s) 1999 are not in the data; seasons available: 2018, 2019" in err


def test_bad_input_exits_non_zero_with_the_error_on_stderr(pipeline_env, capsys):
    results = pipeline_env / layout.source_csv("results")
    results.write_text("resultId,raceId,position\n1,2,3\n")
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert f"{results}, line 1: missing required column(s) driverId, fastestLapTime" in err
    assert not (pipeline_env / "results").exists()


def test_bad_configuration_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("F1_DATA_ROOT", "ftp://nowhere")
    assert main(["run"]) == 2
    assert "configuration error: F1_DATA_ROOT='ftp://nowhere'" in capsys.readouterr().err


def test_the_python_version_is_checked_in_one_sentence():
    from f1_pipeline.cli import python_problem

    assert python_problem((3, 11, 2)) is None
    assert python_problem((3, 12, 0)) is None
    for version in ((3, 10, 14), (3, 13, 1)):
        problem = python_problem(version)
        assert problem.startswith("f1-pipeline runs on Python 3.11 or 3.12, not ")
        assert ".".join(map(str, version)) in problem
        assert "\n" not in problem


def test_parse_seasons():
    assert parse_seasons("2023,2024") == [2023, 2024]
    assert parse_seasons("2018-2020, 2010") == [2010, 2018, 2019, 2020]
    for bad in ("20x4", "2024-2020", ","):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_seasons(bad)
    with pytest.raises(SystemExit):
        main(["run", "--seasons", "x"])


def test_backfill_without_a_webserver_says_how_to_start_one(monkeypatch, capsys):
    from f1_pipeline_tests.e2e.dagster_dev import free_port

    monkeypatch.setenv("F1_DAGSTER_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["backfill", "--seasons", "2023"]) == 1
    assert "cannot reach the Dagster webserver" in capsys.readouterr().err


def test_run_against_an_s3_root(bucket, monkeypatch, tmp_path, capsys, s3_client, expected_dir):
    import boto3

    from f1_pipeline_tests.conftest import SAMPLE_SOURCE

    monkeypatch.setenv("F1_DATA_ROOT", f"s3://{bucket}/team")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    database = bucket.replace("-", "_")
    monkeypatch.setenv("F1_GLUE_DATABASE", database)
    sources = [str(SAMPLE_SOURCE / "races.csv"), str(SAMPLE_SOURCE / "results.csv")]
    assert main(["upload", *sources]) == 0
    assert main(["run", "--seasons", "2021"]) == 0
    assert f"written under s3://{bucket}/team/results" in capsys.readouterr().out
    # The run registered its tables and the published season in the Glue Data Catalog.
    glue = boto3.client("glue", endpoint_url=s3_client.meta.endpoint_url, region_name="eu-west-1")
    [partition] = glue.get_partitions(DatabaseName=database, TableName="season_stats")["Partitions"]
    assert partition["Values"] == ["2021"]
    assert partition["StorageDescriptor"]["Location"] == (
        f"s3://{bucket}/team/results/season_stats/season=2021/"
    )
    assert main(["catalog", "sync"]) == 0  # the deployer's command: nothing left to do
    assert capsys.readouterr().out.splitlines() == [
        f"{database}.season_stats: unchanged",
        f"{database}.cleaned_races: unchanged",
        f"{database}.cleaned_results: unchanged",
        "season partitions: 0 added, 0 removed",
    ]
    # What is stored is what was published (S3 versions), until a file is replaced behind
    # the platform's back — even with the same bytes: another version.
    from f1_pipeline.core.agreement import check_published
    from f1_pipeline_tests.conftest import storage_at

    assert check_published(storage_at(f"s3://{bucket}/team")).passed
    same = s3_client.get_object(Bucket=bucket, Key="team/results/stats_2021.json")["Body"].read()
    s3_client.put_object(Bucket=bucket, Key="team/results/stats_2021.json", Body=same)
    [problem] = check_published(storage_at(f"s3://{bucket}/team")).problems
    assert problem.startswith(f"s3://{bucket}/team/results/stats_2021.json: changed since")
    # The same tables by SQL, locally, read through the storage.
    assert main(["query", "--format", "csv", "SELECT season, count(*) AS races FROM "
                 "season_stats GROUP BY 1"]) == 0  # fmt: skip
    assert capsys.readouterr().out == "season,races\n2021,22\n"
    body = s3_client.get_object(Bucket=bucket, Key="team/results/stats_2021.json")["Body"]
    assert json.loads(body.read()) == json.loads((expected_dir / "stats_2021.json").read_text())
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert "team/cleaned/races/races.parquet" in keys
    assert "team/results/stats_2020.json" not in keys


def test_a_season_less_upload_is_a_short_message_and_exit_1(pipeline_env, capfd):
    races = pipeline_env / layout.source_csv("races")
    races.write_text("raceId,year,round,name,date,time\n")
    assert main(["run"]) == 1
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert f"{races}, line 2: no data rows (a header only)" in err
