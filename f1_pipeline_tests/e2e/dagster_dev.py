"""Starting and stopping a real `dg dev` (webserver + daemon, as `make ui` runs them) for e2e
tests: the project's code location from pyproject.toml's [tool.dg], on the test's home."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from f1_pipeline.defs.graphql import WebserverError, graphql
from f1_pipeline_tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """`dg dev` ignores signals sent to it alone: stop its whole process group."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def dagster_dev(
    log_path: Path, wait_for_graphql: bool = True, webserver_only: bool = False, port: int = 0
) -> Iterator[str]:
    """Run `dg dev` (or, ``webserver_only``, the webserver without a daemon on
    workspace.yaml) on loopback (``port``, else a free one) with the current environment
    (F1_DATA_ROOT, DAGSTER_HOME, …); yield its URL."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    bin_dir = Path(sys.executable).parent
    command = (
        [str(bin_dir / "dagster-webserver"), "-w", "workspace.yaml"]
        if webserver_only
        else [str(bin_dir / "dg"), "dev"]
    )
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [*command, "-h", "127.0.0.1", "-p", str(port)],
            cwd=REPO,
            # dg's project environment is the virtualenv running the tests.
            env={**os.environ, "VIRTUAL_ENV": str(bin_dir.parent)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 120
        while wait_for_graphql:
            try:
                graphql(url, "{ version }")
                break
            except WebserverError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"dg dev did not start:\n{log_path.read_text()[-3000:]}"
                    ) from None
                time.sleep(1)
        yield url
    finally:
        _stop(proc)


def wait_until(predicate, timeout: float, what: str, log_path: Path, interval: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}:\n{log_path.read_text()[-4000:]}")
