from __future__ import annotations

import shutil

from f1_pipeline.cli import main
from f1_pipeline.cli.upload import detect_table, upload_source
from f1_pipeline.core.storage import LocalStorage
from f1_pipeline_tests.conftest import FIXTURES, SAMPLE_SOURCE, write_csv


def test_detect_table_by_required_columns():
    assert detect_table(["raceId", "year", "round", "name", "date", "time", "url"]) == "races"
    assert detect_table(["resultId", "raceId", "driverId", "position", "fastestLapTime"]) == (
        "results"
    )
    assert detect_table(["driverId", "forename"]) is None


def test_upload_puts_files_under_source_data_whatever_their_name(tmp_path):
    storage = LocalStorage(tmp_path / "root")
    renamed = tmp_path / "2024-export.csv"
    shutil.copy(FIXTURES / "ergast" / "results.csv", renamed)
    info = upload_source(storage, renamed)
    assert info.key == "source-data/results.csv"
    assert storage.read_bytes(info.key) == renamed.read_bytes()


def test_upload_command_refuses_a_wrong_file_and_uploads_the_rest(
    bucket, monkeypatch, capsys, tmp_path, s3_client
):
    monkeypatch.setenv("F1_DATA_ROOT", f"s3://{bucket}")
    drivers = write_csv(tmp_path / "drivers.csv", "driverId,forename\n1,Lewis\n")
    code = main(["upload", str(drivers), str(SAMPLE_SOURCE / "races.csv")])
    captured = capsys.readouterr()
    assert code == 1
    assert f"upload refused: {drivers}: neither a races nor a results CSV" in captured.err
    assert "header: driverId, forename" in captured.err
    assert f"-> s3://{bucket}/source-data/races.csv (version " in captured.out
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["source-data/races.csv"]
