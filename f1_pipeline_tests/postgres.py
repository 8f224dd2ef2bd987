"""A throwaway PostgreSQL server for tests: ``initdb`` into its own directory, listening on
127.0.0.1 only (and a socket in that directory), stopped and removed afterwards.

``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` user; its
directory sits directly under /tmp (pytest's own temp tree is private to root).
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

OS_USER = "postgres"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    user: str
    bin_dir: Path

    def create_database(self, name: str) -> str:
        subprocess.run(
            [str(self.bin_dir / "createdb"), "-h", self.host, "-p", str(self.port),
             "-U", self.user, name],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return name

    def env(self, db_name: str) -> dict[str, str]:
        """The DAGSTER_PG_* variables our instance template reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": db_name,
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": "",
        }


def available() -> bool:
    return shutil.which("initdb") is not None and shutil.which("pg_ctl") is not None


def _run(command: str) -> None:
    argv = ["su", OS_USER, "-s", "/bin/sh", "-c", command] if os.geteuid() == 0 else [
        "/bin/sh", "-c", command]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True, text=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def postgres_server() -> Iterator[Server]:
    bin_dir = Path(os.path.realpath(shutil.which("initdb") or "initdb")).parent
    root = Path(tempfile.mkdtemp(prefix="f1-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(root, OS_USER, OS_USER)
    data, log, q = root / "data", root / "server.log", shlex.quote
    started = False
    try:
        _run(f"initdb -D {q(str(data))} -A trust -U {OS_USER} -E UTF8 --locale=C --no-sync")
        for attempt in range(3):  # a free port can be taken between the probe and the bind
            port = _free_port()
            options = (
                f"-k {root} -c listen_addresses=127.0.0.1 -p {port} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            try:
                _run(f"pg_ctl -D {q(str(data))} -l {q(str(log))} -w -t 30 -o {q(options)} start")
                started = True
                break
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise RuntimeError(f"PostgreSQL did not start:\n{log.read_text()}") from None
        yield Server("127.0.0.1", port, OS_USER, bin_dir)
    finally:
        if started:
            _run(f"pg_ctl -D {q(str(data))} -m immediate -w stop")
        shutil.rmtree(root, ignore_errors=True)
