"""Rollback through the daemon on a versioned bucket (moto S3, `dg dev`): A published, B (a
wrong winner that passes every check) published, `f1-pipeline rollback A` submitted to the
daemon's queue — every published file is A's again, byte for byte, and every earlier version
of every object is still there."""

from __future__ import annotations

import pytest

from f1_pipeline.cli import main
from f1_pipeline.defs.instance import prepare_home
from f1_pipeline_tests.conftest import SAMPLE_SOURCE
from f1_pipeline_tests.core.test_history import wrong_winner
from f1_pipeline_tests.e2e.dagster_dev import dagster_dev, free_port, wait_until

pytestmark = pytest.mark.e2e


def _published(s3, bucket) -> dict[str, bytes]:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="results/").get("Contents", [])
    keys = [o["Key"] for o in listed]
    return {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys
            if not k.rsplit("/", 1)[-1].startswith("_")}  # fmt: skip


def _upload(tmp_path, name, results: bytes) -> None:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "races.csv").write_bytes((SAMPLE_SOURCE / "races.csv").read_bytes())
    (folder / "results.csv").write_bytes(results)
    assert main(["upload", str(folder / "races.csv"), str(folder / "results.csv")]) == 0


def test_rollback_through_the_daemon_on_s3(bucket, s3_client, tmp_path, monkeypatch, capsys):
    port = free_port()
    for name, value in {"F1_DATA_ROOT": f"s3://{bucket}",
                        "DAGSTER_HOME": str(prepare_home(tmp_path / "home")),
                        "F1_DAGSTER_URL": f"http://127.0.0.1:{port}"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    log = tmp_path / "dg-dev.log"
    sample = (SAMPLE_SOURCE / "results.csv").read_bytes()
    with dagster_dev(log, port=port):
        _upload(tmp_path, "a", sample)
        wait_until(lambda: len(_published(s3_client, bucket)) == 15, 300, "upload A", log)
        published_a = _published(s3_client, bucket)
        _upload(tmp_path, "b", wrong_winner(sample))
        wait_until(lambda: _published(s3_client, bucket) != published_a, 300, "upload B", log)
        capsys.readouterr()
        assert main(["history"]) == 0
        a = capsys.readouterr().out.splitlines()[2].split(" | ")[0].strip()
        assert main(["rollback", a]) == 0
        out = capsys.readouterr().out
        assert "submitted to the daemon's queue" in out
    assert _published(s3_client, bucket) == published_a
    versions = s3_client.list_object_versions(Bucket=bucket, Prefix="source-data/results.csv")
    assert len(versions["Versions"]) == 3  # A, B, and A again: nothing deleted
