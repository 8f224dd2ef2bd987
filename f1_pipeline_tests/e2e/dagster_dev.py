"""Starting and stopping a real `dagster dev` (webserver + daemon) for e2e tests."""

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

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.webserver import graphql
from f1_pipeline_tests.conftest import REPO


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """`dagster dev` ignores signals sent to it alone: stop its whole process group."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@contextmanager
def dagster_dev(
    log_path: Path, wait_for_graphql: bool = True, webserver_only: bool = False
) -> Iterator[str]:
    """Run `dagster dev` (or, ``webserver_only``, the webserver without a daemon) for the
    workspace on a free loopback port with the current environment (F1_DATA_ROOT,
    DAGSTER_HOME, …); yield its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = ["dagster-webserver"] if webserver_only else ["dagster", "dev"]
    executable = str(Path(sys.executable).with_name(command[0]))
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [executable, *command[1:], "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
            cwd=REPO,
            env=dict(os.environ),
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
            except CommandError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"dagster dev did not start:\n{log_path.read_text()[-3000:]}"
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
