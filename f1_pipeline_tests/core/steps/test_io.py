"""The two Spark IO paths give the same outputs.

DirectIO is what the Glue job uses (Spark reads and writes the root itself). Local pyspark
has no S3 filesystem, so here it runs over a local root; against S3 only its storage calls
(server-side copy with a pinned version, scratch cleanup) are tested, in storage/test_s3.py.
"""

from __future__ import annotations

import json
import logging
import shutil

import pyarrow.parquet as pq
import pytest

from f1_pipeline.core.steps import StepContext, run_step
from f1_pipeline.core.steps.io import DirectIO, LocalStagedIO
from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline.core.transforms.errors import InvalidInputError

LOG = logging.getLogger("f1_pipeline_tests.steps")


def _run_all(storage, session, io_class) -> list:
    checks: list = []
    ctx = StepContext(storage, session, io_class(storage), LOG, "run-1", checks.append)
    run_step("ingest", ctx, {})
    result = run_step("season_stats", ctx, {"seasons": [2023, 2024]})
    assert (result.data["seasons"], result.data["withdrawn"]) == ([2023, 2024], [])
    assert result.data["rewritten"] == ["2023", "2024"]
    assert sorted(result.data["season_metadata"]) == ["2023", "2024"]

    return checks


def _outputs(root) -> dict:
    keys = [layout.cleaned_parquet("races"), layout.cleaned_parquet("results"),
            layout.stats_parquet(2024), layout.season_fingerprints()]  # fmt: skip
    # One file each: read it alone (no hive partition discovery from "season=…" in the path).
    out = {k: pq.ParquetFile(root / k).read().to_pylist() for k in keys if k.endswith(".parquet")}
    out[layout.stats_json(2023)] = (root / layout.stats_json(2023)).read_bytes()
    # Fingerprints only: the sources recorded beside them name each root's own paths.
    commit = json.loads((root / layout.season_fingerprints()).read_text())
    out["fingerprints"] = {s: v["fingerprint"] for s, v in commit["seasons"].items()}
    return out


def test_direct_io_equals_local_staged_io(spark, data_root, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(data_root, other)
    staged_checks = _run_all(LocalStorage(data_root), spark, LocalStagedIO)
    direct_checks = _run_all(LocalStorage(other), spark, DirectIO)
    assert [(c.name, c.passed) for c in direct_checks] == [
        (c.name, c.passed) for c in staged_checks
    ]
    assert len(direct_checks) == 5
    assert _outputs(other) == _outputs(data_root)
    assert not (other / "cleaned" / "_staging").exists()


def test_direct_io_cleans_its_staging_when_the_step_fails(spark, data_root):
    races = data_root / layout.source_csv("races")
    races.write_text(races.read_text().replace(",2024,", ",20x4,", 1))
    storage = LocalStorage(data_root)
    ctx = StepContext(storage, spark, DirectIO(storage, "t-fail"), LOG, "run-1", lambda c: None)
    with pytest.raises(InvalidInputError, match=r"races\.csv, line"):
        run_step("ingest", ctx, {})
    assert storage.list(layout.staging_prefix("t-fail")) == []
    assert storage.list(layout.CLEANED_PREFIX) == []


def test_direct_io_removes_the_folder_markers_emrfs_leaves(spark, data_root):
    """On Glue, Spark's S3 filesystem marks each directory it makes with a ``<dir>_$folder$``
    object beside it; they go with the staging prefix."""
    storage = LocalStorage(data_root)
    io = DirectIO(storage, "t-markers")
    with io.output(spark.range(3), "races") as staged:
        markers = layout.folder_markers(f"{io.prefix}races/")
        assert markers == [
            "cleaned/_staging/t-markers_$folder$",
            "cleaned/_staging/t-markers/races_$folder$",
        ]
        for marker in markers:  # what EMRFS would have written
            storage.write_bytes(marker, b"")
        assert staged.key.startswith(f"{io.prefix}races/")
    assert storage.list(layout.STAGING_PREFIX) == []


def test_folder_markers_stay_under_the_staging_prefix():
    with pytest.raises(ValueError, match="not a directory under"):
        layout.folder_markers("results/")
    with pytest.raises(ValueError, match="not a directory under"):
        layout.folder_markers("cleaned/_staging/t/races.parquet")


def test_an_unknown_step_is_refused(spark, data_root):
    storage = LocalStorage(data_root)
    ctx = StepContext(storage, spark, LocalStagedIO(storage), LOG, "r", lambda c: None)
    with pytest.raises(ValueError, match="unknown step 'nope'; known: ingest"):
        run_step("nope", ctx, {})
