"""The manifest survives overlapping season runs (conditional writes)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from f1_pipeline.core.lineage import (
    Commit,
    SeasonEntry,
    SeasonSummary,
    read_manifest,
    record_published,
)
from f1_pipeline.core.steps.stats import stale_seasons
from f1_pipeline.core.storage import LocalStorage, WriteConflict, layout
from f1_pipeline_tests.conftest import storage_at


def _storages(kind, tmp_path, bucket):
    if kind == "local":
        return LocalStorage(tmp_path)
    return storage_at(f"s3://{bucket}")


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    bucket = request.getfixturevalue("bucket") if request.param == "s3" else None
    return _storages(request.param, tmp_path, bucket)


def test_conditional_write_refuses_a_stale_checksum(storage):
    first = storage.write_bytes_if("results/x.json", b"1", None)
    with pytest.raises(WriteConflict):
        storage.write_bytes_if("results/x.json", b"2", None)  # exists already
    second = storage.write_bytes_if("results/x.json", b"2", first.checksum)
    with pytest.raises(WriteConflict):
        storage.write_bytes_if("results/x.json", b"3", first.checksum)  # stale
    assert storage.read_bytes("results/x.json") == b"2"
    assert second.checksum != first.checksum


def test_concurrent_publishers_lose_no_manifest_entry(storage):
    seasons = [str(y) for y in range(2000, 2012)]

    def publish(season):
        entry = SeasonEntry(files={}, sources={}, fingerprint=f"fp-{season}")
        record_published(storage, {season: entry}, run_id=f"run-{season}")

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(publish, seasons))
    manifest = json.loads(storage.read_bytes(layout.manifest()))
    assert sorted(manifest["seasons"]) == seasons
    assert manifest["seasons"]["2005"]["run_id"] == "run-2005"
    published = read_manifest(storage)
    assert stale_seasons(_commit({s: f"fp-{s}" for s in seasons}), published) == []
    changed = _commit({"2005": "changed", "2030": "new"})
    assert stale_seasons(changed, published) == ["2005", "2030"]


def _commit(fingerprints: dict[str, str]) -> Commit:
    seasons = {s: SeasonSummary(fp, 1, 1) for s, fp in fingerprints.items()}
    return Commit("u", "r", "t", "code", {}, {}, seasons)
