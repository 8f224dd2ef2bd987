"""The local step runner replaces a Spark session whose JVM died instead of retrying into it.

Runs in its own Python process: killing the JVM of the suite's shared session would take
every later test down with it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import logging

    from pyspark import SparkContext

    from f1_pipeline.core.spark import session_alive, spark_config
    from f1_pipeline.core.storage import LocalStorage
    from f1_pipeline.defs.runners.local import LocalSpark

    log = logging.getLogger("test")
    runner = LocalSpark(LocalStorage("."), spark_config("local[1]"))
    first = runner._session(log)
    assert first.range(3).count() == 3
    SparkContext._gateway.proc.kill()  # the JVM dies (OOM killer, a crash, a kill -9)
    SparkContext._gateway.proc.wait()
    assert not session_alive(first)
    second = runner._session(log)
    assert second is not first
    assert second.range(5).count() == 5
    print("rebuilt")
    """
)


def test_a_dead_session_is_replaced_by_a_new_one(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("rebuilt")
