"""The steps alone: a truncated upload is held (nothing published, a hold record), accepted by
name only, then published with its withdrawals kept out of view; an upload the cleaned layer is
built from is not cleaned again."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from f1_pipeline.core.holds import read_acceptance, read_hold
from f1_pipeline.core.lineage import read_commit, read_json
from f1_pipeline.core.steps import StepContext, run_step
from f1_pipeline.core.steps.checks import UploadHeld
from f1_pipeline.core.steps.io import LocalStagedIO
from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline.core.upload import look

LOG = logging.getLogger("f1_pipeline_tests.holds")
SEASONS = [str(s) for s in range(2018, 2025)]


def _keep_seasons(root, seasons: set[str]) -> None:
    """Cut the upload to ``seasons`` (races and their results), consistent with itself."""
    races = (root / layout.source_csv("races")).read_bytes().splitlines(keepends=True)
    kept = [races[0]] + [r for r in races[1:] if r.split(b",")[1].decode() in seasons]
    ids = {r.split(b",")[0] for r in kept[1:]}
    results = (root / layout.source_csv("results")).read_bytes().splitlines(keepends=True)
    (root / layout.source_csv("races")).write_bytes(b"".join(kept))
    (root / layout.source_csv("results")).write_bytes(
        b"".join([results[0]] + [r for r in results[1:] if r.split(b",")[1] in ids])
    )


@pytest.fixture
def published(spark, data_root):
    storage = LocalStorage(data_root)
    checks: list = []
    ctx = StepContext(storage, spark, LocalStagedIO(storage), LOG, "run-1", checks.append)
    run_step("ingest", ctx, {})
    run_step("season_stats", ctx, {"seasons": SEASONS})
    return storage, ctx, checks


def test_a_truncated_upload_is_held_and_nothing_changes(published, data_root):
    storage, ctx, checks = published
    commit_before = (data_root / layout.season_fingerprints()).read_bytes()
    files_before = {p: p.read_bytes() for p in (data_root / "results").rglob("*") if p.is_file()}
    _keep_seasons(data_root, {"2022", "2023", "2024"})
    checks.clear()
    with pytest.raises(UploadHeld, match=r"would withdraw 2018, 2019, 2020, 2021 \(published\)"):
        run_step("ingest", ctx, {})
    [hold] = [c for c in checks if c.name == "no_published_data_removed"]
    assert not hold.passed
    assert all(c.passed for c in checks if c is not hold)
    assert (data_root / layout.season_fingerprints()).read_bytes() == commit_before
    assert {p: p.read_bytes() for p in files_before} == files_before
    uid = look(storage).upload
    assert read_hold(storage, uid)["changes"] == [
        "would withdraw 2018, 2019, 2020, 2021 (published)"
    ]


def test_an_acceptance_names_one_upload_and_keeps_the_old_files(published, data_root):
    storage, ctx, checks = published
    _keep_seasons(data_root, {"2022", "2023", "2024"})
    uid = look(storage).upload
    by = {"via": "dagster run", "run_id": "run-2"}
    over = read_commit(storage).upload  # what the upload is held against
    with pytest.raises(UploadHeld):  # an acceptance of another upload does not apply
        run_step("ingest", ctx, {"accept": {"upload": "0123456789ab", "by": by}})
    assert read_acceptance(storage, uid, over) is None
    old_2018 = (data_root / layout.stats_json(2018)).read_bytes()

    accepted = run_step("ingest", ctx, {"accept": {"upload": uid, "by": by}})
    assert accepted.data["seasons"] == [2022, 2023, 2024]
    assert read_acceptance(storage, uid, over)["accepted_by"] == by
    assert read_acceptance(storage, uid, "another-upload") is None  # it answers that hold only
    commit = read_commit(storage)
    assert sorted(commit.withdrawals_accepted) == ["2018", "2019", "2020", "2021"]

    done = run_step("season_stats", ctx, {"seasons": SEASONS})
    assert done.data["withdrawn"] == [2018, 2019, 2020, 2021]
    assert done.data["rewritten"] == []  # 2022..2024: the same data, not rewritten
    assert not (data_root / layout.stats_json(2018)).exists()
    entry = read_json(storage, layout.manifest())["seasons"]["2018"]
    assert entry["withdrawn"] is True
    assert entry["accepted"]["upload"] == uid
    kept = entry["kept_at"][layout.stats_json(2018)]
    assert kept.startswith(str(data_root / layout.ARCHIVE_PREFIX))
    assert Path(kept).read_bytes() == old_2018  # never unlinked

    # The next upload is judged against what is now accepted: no hold for the same seasons.
    checks.clear()
    run_step("ingest", ctx, {})
    assert all(c.passed for c in checks)


def test_an_upload_already_ingested_by_this_code_is_not_cleaned_again(published, data_root):
    _storage, ctx, checks = published
    before = (data_root / layout.cleaned_parquet("results")).stat().st_mtime_ns
    checks.clear()
    again = run_step("ingest", ctx, {})
    assert again.data["unchanged"] is True
    assert (data_root / layout.cleaned_parquet("results")).stat().st_mtime_ns == before
    assert len(checks) == 5
    assert all(c.passed for c in checks)
    stats = run_step("season_stats", ctx, {"seasons": SEASONS})
    assert stats.data["rewritten"] == []
    assert stats.data["unchanged"] == SEASONS
    manifest = json.loads((data_root / layout.manifest()).read_text())
    assert set(manifest["seasons"]["2024"]["code"]) == {"cleaning", "stats"}


def test_a_completed_race_that_vanishes_is_held(published, data_root):
    """One race of 2023's 22, removed with its results: under the 10 % share, still held."""
    _, ctx, _ = published
    races_csv, results_csv = (data_root / layout.source_csv(t) for t in ("races", "results"))
    races = races_csv.read_bytes().splitlines(keepends=True)
    [monaco] = [r for r in races if r.startswith(b"1104,2023,6,")]
    races_csv.write_bytes(b"".join(r for r in races if r is not monaco))
    results = results_csv.read_bytes().splitlines(keepends=True)
    results_csv.write_bytes(b"".join(r for r in results if r.split(b",")[1] != b"1104"))
    with pytest.raises(UploadHeld, match=r"2023 round 6 \(Monaco Grand Prix\) would vanish"):
        run_step("ingest", ctx, {})
    assert b"Monaco" in (data_root / "results" / "stats_2023.json").read_bytes()  # kept


def test_a_calendar_entry_without_results_may_go(published, data_root):
    """The sample's 2024 season lists races that have not run yet: one removed, not held."""
    _, ctx, _ = published
    races_csv = data_root / layout.source_csv("races")
    races = races_csv.read_bytes().splitlines(keepends=True)
    last = max(
        (r for r in races if r.split(b",")[1] == b"2024"), key=lambda r: int(r.split(b",")[2])
    )
    races_csv.write_bytes(b"".join(r for r in races if r is not last))
    assert run_step("ingest", ctx, {}).data["unchanged"] is False
