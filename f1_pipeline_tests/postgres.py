"""A throwaway PostgreSQL server for tests: a cluster set up as the team set-up's is
(f1_pipeline.cli.postgres: 127.0.0.1 and a 0700 socket only, password authentication for
every connection), started here with pg_ctl and without fsync, stopped and removed afterwards
(the team set-up's own server is run by supervisord).

As root the server runs as the ``postgres`` user, so its folder sits directly under /tmp
(pytest's own temp tree is private to root).
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from f1_pipeline.cli import postgres
from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.postgres import Cluster

__all__ = ["available", "postgres_server", "shared_tmp"]

FAST = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]


def available() -> bool:
    return postgres.available() and shutil.which("pg_ctl") is not None


def shared_tmp(prefix: str) -> Path:
    """A folder under /tmp the ``postgres`` user can reach (when the tests run as root)."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    root.chmod(0o755)
    return root


@contextmanager
def postgres_server(fast: bool = True) -> Iterator[Cluster]:
    """A running cluster; ``fast``: without fsync (tests), else as a real server (bench)."""
    root = shared_tmp("f1-pg-")
    cluster = Cluster(root / "postgres")
    data = str(cluster.data)
    try:
        cluster.init()
        options = shlex.join([*cluster.options(), *(FAST if fast else [])])
        log = str(cluster.root / "server.log")
        cluster.run(["pg_ctl", "-D", data, "-l", log, "-w", "-t", "60", "-o", options, "start"])
        cluster.create_database()
        yield cluster
    finally:
        try:
            cluster.run(["pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "60", "stop"])
        except CommandError:
            pass  # it did not start
        finally:
            shutil.rmtree(root, ignore_errors=True)
