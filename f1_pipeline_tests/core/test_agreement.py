"""The published-files check: files against the manifest's checksums, the JSON contract
against the Parquet table by SQL — it passes on what the steps published and names what was
changed behind the platform's back."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq

from f1_pipeline.core.agreement import check_published
from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline_tests.conftest import copy_root


def test_what_the_steps_published_agrees(published_sample):
    agreement = check_published(LocalStorage(published_sample))
    assert agreement.passed, agreement.problems
    assert agreement.seasons == [str(s) for s in range(2018, 2025)]
    assert (agreement.files, agreement.races) == (14, 149)
    assert "JSON and Parquet agree on all 149 races" in agreement.summary()


def test_nothing_published_passes(tmp_path):
    (tmp_path / "root").mkdir()
    agreement = check_published(LocalStorage(tmp_path / "root"))
    assert agreement.passed
    assert agreement.summary() == "nothing published yet"


def test_a_winner_changed_in_the_json_is_named(published_sample, tmp_path):
    root = copy_root(published_sample, tmp_path / "data")
    path = root / layout.stats_json(2021)
    races = json.loads(path.read_text())
    races[4]["Race Winning driverId"] = 9999
    path.write_text(json.dumps(races, indent=2))
    agreement = check_published(LocalStorage(root))
    assert not agreement.passed
    assert any(f"{path}: changed since it was published" in p for p in agreement.problems)
    assert (
        f"season 2021 round {races[4]['Race Round']}: JSON and Parquet differ in "
        "winner_driver_id" in agreement.problems
    )
    assert len(agreement.problems) == 2


def test_a_parquet_table_losing_a_race_or_a_file_is_named(published_sample, tmp_path):
    root = copy_root(published_sample, tmp_path / "data")
    parquet = root / layout.stats_parquet(2019)
    table = pq.read_table(parquet)
    cut = table.slice(0, table.num_rows - 1)
    buffer = io.BytesIO()
    pq.write_table(cut, buffer)
    parquet.write_bytes(buffer.getvalue())
    (root / layout.stats_json(2023)).unlink()
    problems = check_published(LocalStorage(root)).problems
    assert any(p.startswith(f"{parquet}: changed since") for p in problems)
    assert f"season 2019 round {table.num_rows}: only in the JSON" in problems
    assert f"{root / layout.stats_json(2023)}: missing (the manifest lists it)" in problems


def test_a_file_breaking_the_schema_is_named(published_sample, tmp_path):
    root = copy_root(published_sample, tmp_path / "data")
    path = root / layout.stats_json(2019)
    races = json.loads(path.read_text())
    races[0]["Race Datetime"] = "2019-03-17T05:10:00Z"
    path.write_text(json.dumps(races, indent=2))
    problems = check_published(LocalStorage(root)).problems
    assert (
        f"{path}: breaks the schema at 0/Race Datetime: '2019-03-17T05:10:00Z' does not match"
        in (" ".join(problems))
    )
