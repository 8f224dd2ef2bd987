"""`dg` on the project: [tool.dg] in pyproject.toml names the code location and its explicit
definitions module (`dg check defs` runs in `make lint`; `dg dev` is what `make ui` and the
e2e tests start; `dg launch` beside a daemon is in e2e/test_dg_e2e.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from f1_pipeline_tests.conftest import REPO


def dg(*args: str, env: dict[str, str] | None = None, timeout: float = 300):
    """`dg` from the virtualenv running the tests, in the project folder."""
    bin_dir = Path(sys.executable).parent
    return subprocess.run(
        [str(bin_dir / "dg"), *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**(env or os.environ), "VIRTUAL_ENV": str(bin_dir.parent)},
    )  # fmt: skip


def test_dg_lists_the_definitions_of_the_explicit_module(tmp_path):
    done = dg("list", "defs", "--json", env={**os.environ, "DAGSTER_HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assets = {a["asset_key"] for a in found["assets"]}
    assert {"source_data/races", "source_data/results", "cleaned/races", "cleaned/results",
            "results/season_stats"} <= assets  # fmt: skip
    assert {j["name"] for j in found["jobs"]} == {
        "f1_job",
        "freshness_check_job",
        "published_files_check_job",
    }
    assert "source_data_sensor" in {s["name"] for s in found["sensors"]}
    checks = {c["key"] for c in found["asset_checks"]}
    assert {
        "results/season_stats:results_up_to_date",
        "results/season_stats:published_files_agree",
        "cleaned/races:no_published_data_removed",
    } <= checks
