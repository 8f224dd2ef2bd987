"""S3Storage against a real S3-compatible server (moto) over HTTP on loopback."""

from __future__ import annotations

import pytest

from f1_pipeline.core.storage import ObjectNotFound, layout
from f1_pipeline.core.storage.s3 import S3Storage
from f1_pipeline_tests.conftest import storage_at


@pytest.fixture
def storage(bucket, aws_env) -> S3Storage:
    built = storage_at(f"s3://{bucket}/team/f1/")
    assert isinstance(built, S3Storage)
    return built


def test_keys_live_under_the_prefix(storage, s3_client, bucket):
    storage.write_bytes(layout.stats_json(2024), b"[]")
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["team/f1/results/stats_2024.json"]
    assert (
        storage.uri("results/stats_2024.json") == f"s3://{bucket}/team/f1/results/stats_2024.json"
    )
    assert [o.key for o in storage.list("results/")] == ["results/stats_2024.json"]


def test_versions_and_etags_are_recorded(storage, s3_client, bucket):
    first = storage.write_bytes("source-data/races.csv", b"a")
    second = storage.write_bytes("source-data/races.csv", b"b")
    assert first.version_id is not None
    assert second.version_id not in (None, first.version_id)
    assert storage.info("source-data/races.csv") == second
    assert first.checksum == "0cc175b9c0f1b6a831c399e269772661"  # MD5 ETag of b"a"
    with storage.local_copy("source-data/races.csv", first.version_id) as (path, info):
        assert path.read_bytes() == b"a"
        assert info == first  # exactly the version asked for, not the current one
    with storage.local_copy("source-data/races.csv") as (path, info):
        assert (path.read_bytes(), info) == (b"b", second)  # the current one, pinned
    versions = s3_client.list_object_versions(Bucket=bucket, Prefix="team/f1/source-data/")
    assert len(versions["Versions"]) == 2


def test_reads_date_the_write_by_its_last_modified_second(storage, s3_client, bucket):
    storage.write_bytes("source-data/races.csv", b"a")
    head = s3_client.head_object(Bucket=bucket, Key="team/f1/source-data/races.csv")
    # LastModified counts whole seconds: the write had finished by the second after it.
    expected = head["LastModified"].timestamp() + 1.0
    assert storage.info("source-data/races.csv").written_by == expected
    [listed] = storage.list("source-data/")
    assert listed.written_by == pytest.approx(expected, abs=1.0)


def test_publish_file_and_iter_lines(storage, tmp_path):
    src = tmp_path / "r.csv"
    src.write_bytes(b"h\r\nx\r\n")
    info = storage.publish_file(src, "source-data/results.csv")
    assert info.size == 6
    assert list(storage.iter_lines("source-data/results.csv")) == [b"h\r\n", b"x\r\n"]


def test_missing_objects_are_named(storage, bucket):
    key = layout.source_csv("races")
    assert not storage.exists(key)
    with pytest.raises(ObjectNotFound, match=f"s3://{bucket}/team/f1/source-data/races.csv"):
        storage.info(key)
    with pytest.raises(ObjectNotFound), storage.local_copy(key):
        pass
    with pytest.raises(ObjectNotFound):
        storage.read_bytes(key)


def test_building_the_storage_makes_no_call(aws_env, monkeypatch):
    # An unreachable endpoint: construction alone must not touch it.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    storage = storage_at("s3://b-1")
    assert "S3Storage" in repr(storage)
    assert storage is not None


def test_copy_pins_a_version_and_delete_prefix_clears_scratch(storage, s3_client, bucket):
    first = storage.write_bytes("source-data/races.csv", b"first")
    storage.write_bytes("source-data/races.csv", b"second")
    staged = layout.staging_prefix("t1") + "source-data/races.csv"
    copied = storage.copy("source-data/races.csv", staged, first.version_id)
    assert storage.read_bytes(staged) == b"first"  # the version asked for, not the latest
    assert (copied.key, copied.size) == (staged, 5)
    assert copied.version_id is not None
    assert storage.uri(staged) == f"s3://{bucket}/team/f1/{staged}"
    storage.write_bytes(layout.staging_prefix("t1") + "races/part-0.parquet", b"x")
    assert storage.delete_prefix(layout.staging_prefix("t1")) == 2
    assert storage.list("cleaned/") == []
    assert storage.read_bytes("source-data/races.csv") == b"second"
    with pytest.raises(ObjectNotFound, match=r"source-data/nope\.csv"):
        storage.copy("source-data/nope.csv", staged)


def test_a_withdrawn_object_stays_readable_by_version(storage, s3_client, bucket):
    put = storage.write_bytes(layout.stats_json(2018), b"[1]")
    kept = storage.withdraw(layout.stats_json(2018), layout.archived(layout.stats_json(2018), "r1"))
    assert kept == f"{storage.uri(layout.stats_json(2018))}?versionId={put.version_id}"
    assert not storage.exists(layout.stats_json(2018))
    key = f"team/f1/{layout.stats_json(2018)}"
    old = s3_client.get_object(Bucket=bucket, Key=key, VersionId=put.version_id)
    assert old["Body"].read() == b"[1]"


def test_an_unversioned_bucket_keeps_a_withdrawn_object_in_the_archive(aws_env, s3_client):
    s3_client.create_bucket(
        Bucket="f1-unversioned", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    storage = storage_at("s3://f1-unversioned")
    storage.write_bytes(layout.stats_json(2018), b"[1]")
    archive = layout.archived(layout.stats_json(2018), "r1")
    assert storage.withdraw(layout.stats_json(2018), archive) == storage.uri(archive)
    assert storage.read_bytes(archive) == b"[1]"
    assert not storage.exists(layout.stats_json(2018))
