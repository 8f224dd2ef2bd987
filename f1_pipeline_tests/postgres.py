"""A throwaway PostgreSQL server for tests: the same local server the team set-up runs
(f1_pipeline.cli.postgres: 127.0.0.1 and a 0700 socket only, password authentication for
every connection), without fsync, stopped and removed afterwards.

As root the server runs as the ``postgres`` user, so its folder sits directly under /tmp
(pytest's own temp tree is private to root).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from f1_pipeline.cli.postgres import LocalPostgres, available

__all__ = ["available", "postgres_server", "shared_tmp"]


def shared_tmp(prefix: str) -> Path:
    """A folder under /tmp the ``postgres`` user can reach (when the tests run as root)."""
    root = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    root.chmod(0o755)
    return root


@contextmanager
def postgres_server() -> Iterator[LocalPostgres]:
    root = shared_tmp("f1-pg-")
    server = LocalPostgres(root / "postgres")
    try:
        server.start(fast=True)
        yield server
    finally:
        try:
            server.stop(immediate=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)
