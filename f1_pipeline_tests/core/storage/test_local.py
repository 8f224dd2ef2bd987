from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from f1_pipeline.core.storage import LocalStorage, ObjectNotFound, StorageError, layout


def test_write_read_info_and_list(tmp_path):
    storage = LocalStorage(tmp_path)
    info = storage.write_bytes(layout.stats_json(2024), b"[]")
    assert info.checksum == hashlib.sha256(b"[]").hexdigest() == info.version
    assert storage.read_bytes("results/stats_2024.json") == b"[]"
    assert [o.key for o in storage.list("results/")] == ["results/stats_2024.json"]
    assert storage.list("cleaned/") == []


def test_failed_write_keeps_previous_object_and_leaves_no_temp(tmp_path, monkeypatch):
    storage = LocalStorage(tmp_path)
    storage.write_bytes("results/x.json", b"old")

    def broken_copy(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr("f1_pipeline.core.storage.local.shutil.copyfile", broken_copy)
    src = tmp_path / "new.json"
    src.write_bytes(b"new")
    with pytest.raises(OSError, match="disk full"):
        storage.publish_file(src, "results/x.json")
    assert storage.read_bytes("results/x.json") == b"old"
    assert sorted(p.name for p in (tmp_path / "results").iterdir()) == ["x.json"]


def test_missing_object_names_the_path(tmp_path):
    storage = LocalStorage(tmp_path)
    with pytest.raises(StorageError, match=r"source-data/races\.csv: file not found"):
        storage.info(layout.source_csv("races"))
    with pytest.raises(StorageError, match="file not found"), storage.local_copy("nope"):
        pass


def test_keys_cannot_escape_the_root(tmp_path):
    with pytest.raises(StorageError, match="escapes"):
        LocalStorage(tmp_path / "root").read_bytes("../secret")


def test_layout_keys():
    assert layout.source_csv("results") == "source-data/results.csv"
    # Each cleaned table in a folder of its own (a catalog table points at a folder).
    assert layout.cleaned_parquet("races") == "cleaned/races/races.parquet"
    assert layout.cleaned_table_prefix("results") == "cleaned/results/"
    assert layout.stats_parquet(2024) == "results/season_stats/season=2024/season_stats.parquet"
    assert layout.stats_json(2024) == "results/stats_2024.json"
    with pytest.raises(ValueError, match="unknown source table"):
        layout.source_csv("drivers")


def test_checksum_follows_same_size_rewrites(tmp_path):
    import os

    storage = LocalStorage(tmp_path)
    first = storage.write_bytes("source-data/races.csv", b"aaaa")
    path = tmp_path / "source-data" / "races.csv"
    path.write_bytes(b"bbbb")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = storage.info("source-data/races.csv")
    assert second.size == first.size
    assert second.checksum != first.checksum
    assert storage.info("source-data/races.csv") == second


def test_copy_and_delete_prefix(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.write_bytes("source-data/races.csv", b"abc")
    staged = layout.staging_prefix("t1") + "source-data/races.csv"
    info = storage.copy("source-data/races.csv", staged)
    assert storage.read_bytes(staged) == b"abc"
    assert info == storage.info(staged)
    assert storage.uri(staged) == str(tmp_path / staged)
    (tmp_path / layout.staging_prefix("t1") / ".hidden.crc").write_bytes(b"")
    assert storage.delete_prefix(layout.staging_prefix("t1")) == 1
    assert not (tmp_path / "cleaned" / "_staging" / "t1").exists()
    assert storage.read_bytes("source-data/races.csv") == b"abc"
    with pytest.raises(ObjectNotFound):
        storage.copy("source-data/nope.csv", staged)


def test_published_files_get_the_mode_the_umask_gives(tmp_path):
    from f1_pipeline.core.storage.local import _umask

    storage = LocalStorage(tmp_path)
    storage.write_bytes("results/stats_2024.json", b"[]")
    mode = (tmp_path / "results" / "stats_2024.json").stat().st_mode & 0o777
    assert mode == 0o666 & ~_umask()
    assert mode != 0o600  # what mkstemp alone gives: unreadable by a web server


def test_a_local_copy_is_private_and_says_what_it_holds(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.write_bytes("source-data/races.csv", b"first")
    with storage.local_copy("source-data/races.csv") as (path, info):
        storage.write_bytes("source-data/races.csv", b"second")  # replaced while read
        assert path.read_bytes() == b"first"
        assert info.checksum == hashlib.sha256(b"first").hexdigest()
    assert not path.exists()


def test_a_withdrawn_file_is_moved_to_the_archive_never_unlinked(tmp_path):
    storage = LocalStorage(tmp_path)
    storage.write_bytes(layout.stats_json(2018), b"[1]")
    kept = storage.withdraw(layout.stats_json(2018), layout.archived(layout.stats_json(2018), "r1"))
    assert kept == str(tmp_path / "archive" / "r1" / "results" / "stats_2018.json")
    assert not storage.exists(layout.stats_json(2018))
    assert Path(kept).read_bytes() == b"[1]"
    # Outside every table's folder: no reader of results/ sees it.
    assert storage.list(layout.RESULTS_PREFIX) == []
    assert storage.withdraw(layout.stats_json(2018), layout.archived("x", "r2")) is None
