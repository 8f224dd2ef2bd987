"""Public APIs only: the lint rules pass on the package and fail on a deliberate private
import, a private attribute, and a getattr of one."""

from __future__ import annotations

import shutil
import subprocess
import sys

from f1_pipeline_tests.conftest import REPO

OFFENDER = """\
from dagster._core.execution.context.system import StepExecutionContext
from pyspark import SparkContext

gateway = SparkContext._gateway
accumulator = getattr(StepExecutionContext, "_metadata_accumulator", None)
"""


def _ruff(*args: str) -> subprocess.CompletedProcess:
    ruff = shutil.which("ruff", path=str(REPO / ".venv" / "bin")) or "ruff"
    return subprocess.run([ruff, *args], cwd=REPO, capture_output=True, text=True)


def _checker(root) -> subprocess.CompletedProcess:
    script = REPO / ".ci" / "private_access.py"
    return subprocess.run([sys.executable, str(script), str(root)], capture_output=True, text=True)


def test_the_package_uses_public_apis_only():
    assert _ruff("check", "--select", "TID251,SLF001", "f1_pipeline").returncode == 0
    assert _checker(REPO / "f1_pipeline").returncode == 0


def test_a_private_import_or_attribute_fails_the_lint(tmp_path):
    module = tmp_path / "probe.py"
    module.write_text(OFFENDER)
    ruff = _ruff("check", "--select", "TID251,SLF001", "--no-cache", str(module))
    checker = _checker(tmp_path)
    assert ruff.returncode == 1
    assert "TID251 `dagster._core` is banned" in ruff.stdout
    assert "SLF001 Private member accessed: `_gateway`" in ruff.stdout
    assert checker.returncode == 1
    assert "getattr(..., '_metadata_accumulator') reaches a private attribute" in checker.stdout
    assert "private module dagster._core.execution.context.system" in checker.stdout
