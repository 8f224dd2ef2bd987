"""A root written before each cleaned table had its own folder: read through its commit
record, and moved by the next accepted upload (the old files kept in the archive, never
unlinked)."""

from __future__ import annotations

import json
import logging

from f1_pipeline.core.lineage import read_commit
from f1_pipeline.core.steps import StepContext, run_step
from f1_pipeline.core.steps.io import LocalStagedIO
from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline_tests.conftest import copy_root

LOG = logging.getLogger("f1_pipeline_tests.migration")
TABLES = ("races", "results")


def _legacy(root) -> None:
    commit = json.loads((root / layout.season_fingerprints()).read_text())
    for table in TABLES:
        (root / layout.cleaned_parquet(table)).rename(root / layout.legacy_cleaned_parquet(table))
        (root / layout.cleaned_table_prefix(table)).rmdir()
        commit["tables"][table]["key"] = layout.legacy_cleaned_parquet(table)
    (root / layout.season_fingerprints()).write_text(json.dumps(commit))


def test_a_legacy_root_is_read_then_moved_by_the_next_upload(published_sample, tmp_path, spark):
    root = copy_root(published_sample, tmp_path / "data")
    _legacy(root)
    storage = LocalStorage(root)
    ctx = StepContext(storage, spark, LocalStagedIO(storage), LOG, "run-2", lambda _: None)
    # The stats read the tables where the commit record says they are.
    run_step("season_stats", ctx, {"seasons": ["2024"]})
    legacy = {t: (root / layout.legacy_cleaned_parquet(t)).read_bytes() for t in TABLES}
    # A correction arrives: the cleaned tables move to their folders.
    results = root / layout.source_csv("results")
    lines = results.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace(lines[1].split(",")[-1], "1:40.000\n")
    results.write_text("".join(lines))
    run_step("ingest", ctx, {})
    tables = read_commit(storage)["tables"]
    for table in TABLES:
        assert tables[table]["key"] == layout.cleaned_parquet(table)
        assert (root / layout.cleaned_parquet(table)).is_file()
        assert not (root / layout.legacy_cleaned_parquet(table)).exists()
        archived = [p for p in (root / "archive").rglob(f"{table}.parquet") if p.is_file()]
        assert [p.read_bytes() for p in archived] == [legacy[table]], table
    run_step("season_stats", ctx, {"seasons": ["2024"]})
