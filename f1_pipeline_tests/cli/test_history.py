"""`f1-pipeline history` and `rollback`: the accepted uploads, an earlier one made current
again byte for byte, and a rollback refused in one sentence where it cannot be done."""

from __future__ import annotations

from f1_pipeline.cli import main
from f1_pipeline.core.storage import layout


def test_history_and_rollback_from_the_command_line(pipeline_env, capsys, spark):
    from f1_pipeline_tests.core.test_history import _published_files, wrong_winner

    assert main(["history"]) == 1
    assert "no accepted upload yet" in capsys.readouterr().out
    assert main(["run"]) == 0
    published_a = _published_files(pipeline_env)
    results = pipeline_env / layout.source_csv("results")
    results.write_bytes(wrong_winner(results.read_bytes()))
    assert main(["run"]) == 0
    capsys.readouterr()
    assert main(["history"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split(" | ")[0].strip() == "upload"
    a, b = (line.split(" | ")[0].strip() for line in lines[2:])
    assert "| 2024 " in lines[3]
    assert main(["rollback", a]) == 0
    out = capsys.readouterr().out
    assert f"rollback to upload {a}" in out
    assert "season 2024: 24 races\n" in out  # rewritten; the others unchanged
    assert _published_files(pipeline_env) == published_a
    assert main(["history"]) == 0
    assert f"rollback of {a}" in capsys.readouterr().out
    assert main(["rollback", "0123456789ab"]) == 1
    assert "rollback refused: upload 0123456789ab is not in the history" in capsys.readouterr().err
    assert b != a


def test_a_rollback_needs_a_versioned_bucket(aws_env, tmp_path, monkeypatch, capsys, spark):
    import boto3

    from f1_pipeline_tests.conftest import SAMPLE_SOURCE

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="f1-cli-unversioned", CreateBucketConfiguration={
        "LocationConstraint": "eu-west-1"})  # fmt: skip
    monkeypatch.setenv("F1_DATA_ROOT", "s3://f1-cli-unversioned")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert main(["upload", str(SAMPLE_SOURCE / "races.csv"),
                 str(SAMPLE_SOURCE / "results.csv")]) == 0  # fmt: skip
    assert main(["run", "--seasons", "2024"]) == 0
    capsys.readouterr()
    assert main(["history"]) == 0
    [row] = capsys.readouterr().out.splitlines()[2:]
    assert "not kept (an unversioned bucket)" in row
    assert main(["rollback", row.split(" | ")[0].strip()]) == 1
    assert capsys.readouterr().err.strip() == (
        "f1-pipeline: rollback refused: rollback needs a versioned bucket, and "
        "s3://f1-cli-unversioned/ keeps no versions (`f1-pipeline bootstrap` turns versioning on)"
    )
