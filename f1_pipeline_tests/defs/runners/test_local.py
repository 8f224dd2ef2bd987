"""The local step runner replaces a Spark server that died, with a new server and session,
instead of retrying into it; and a server the process started ends with the process.

Runs in a Python process of its own: these kill the process's Spark."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent(
    """
    import logging, sys
    from pathlib import Path

    from f1_pipeline.core import engine
    from f1_pipeline.core.spark import spark_config
    from f1_pipeline.core.storage import LocalStorage
    from f1_pipeline.defs.runners.local import LocalSpark

    log = logging.getLogger("test")
    runner = LocalSpark(LocalStorage("."), spark_config("local[1]"), connect_home=Path("."))
    first = runner._session(log)
    assert first.range(3).count() == 3
    server = engine.current_private_server()
    server.kill()  # the JVM dies (OOM killer, a crash, a kill -9)
    server.process.wait(30)
    second = runner._session(log)
    assert second is not first
    assert engine.current_private_server() is not server
    assert second.range(5).count() == 5
    print("rebuilt", engine.current_private_server().process.pid, flush=True)
    if sys.argv[1:] == ["hang"]:
        import time
        time.sleep(600)
    """
)


def test_a_dead_server_is_replaced_by_a_new_one(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().startswith("rebuilt")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def test_a_private_server_ends_with_the_process_that_started_it(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, "hang"], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline() if proc.stdout else ""
    assert line.startswith("rebuilt"), line
    shell = int(line.split()[1])
    jvm = _children(shell)
    assert jvm, "the server's JVM runs"
    os.kill(proc.pid, signal.SIGKILL)  # the run's process is killed outright
    proc.wait()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and os.path.exists(f"/proc/{jvm[0]}"):
        time.sleep(0.2)
    assert not os.path.exists(f"/proc/{jvm[0]}"), "the server outlived its process"
