"""A PostgreSQL server of a Dagster home's own, for the team set-up on one machine
(`f1-pipeline team up` when no server is named by DAGSTER_PG_*), and for the tests.

Its cluster lives in ``<home>/team/postgres``; it listens on 127.0.0.1 only (and a Unix
socket in that folder, 0700), and every connection, TCP or socket, authenticates with a
password (scram-sha-256): no ``trust`` anywhere. The password is generated once, kept in a
0600 file beside the cluster and handed to Dagster's processes in DAGSTER_PG_PASSWORD; it is
never printed or logged.

``initdb`` refuses to run as root: as root the cluster belongs to, and the server runs as, the
``postgres`` user (its folder is then that user's; the password file stays root's).
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "postgres"  # the OS user the server runs as when we are root
ROLE = "dagster"  # the database superuser Dagster connects as
DATABASE = "dagster"


class PostgresError(RuntimeError):
    """The local server could not be set up, started or stopped; the message says why."""


def available() -> bool:
    return shutil.which("initdb") is not None and shutil.which("pg_ctl") is not None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)


@dataclass(frozen=True)
class LocalPostgres:
    """The cluster under ``root``: ``data/`` (PostgreSQL's), ``server.log``, ``server.json``
    (port, role, database) and ``password`` (0600)."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    def _run(self, command: str) -> str:
        as_service = os.geteuid() == 0
        argv = ["su", SERVICE_USER, "-s", "/bin/sh", "-c", command] if as_service else [
            "/bin/sh", "-c", command]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PostgresError(
                f"`{command.split()[0]}` failed ({done.returncode}): "
                f"{(done.stderr or done.stdout).strip()[-800:]}"
            )
        return done.stdout

    def _own(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, SERVICE_USER, SERVICE_USER)

    @property
    def password(self) -> str:
        return (self.root / "password").read_text().strip()

    @property
    def port(self) -> int:
        return int(json.loads((self.root / "server.json").read_text())["port"])

    def initialised(self) -> bool:
        return (self.data / "PG_VERSION").exists() and (self.root / "password").exists()

    def init(self) -> None:
        """Create the cluster (once): the role, a generated password, password auth only."""
        if self.initialised():
            return
        if not available():
            raise PostgresError(
                "no initdb/pg_ctl on PATH: install PostgreSQL (e.g. `apt-get install "
                "postgresql`) or name a server with F1_DAGSTER_STORAGE=postgres and DAGSTER_PG_*"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(self.data, ignore_errors=True)
        password = secrets.token_urlsafe(24)
        _write_private(self.root / "password", password)
        # initdb reads the password from a file its own user can read; removed right after.
        pwfile = self.root / ".initdb-password"
        _write_private(pwfile, password)
        for path in (self.root, pwfile):
            self._own(path)
        q = shlex.quote
        try:
            self._run(
                f"initdb -D {q(str(self.data))} -U {ROLE} -E UTF8 --locale=C "
                f"--auth-local=scram-sha-256 --auth-host=scram-sha-256 --pwfile={q(str(pwfile))}"
            )
        finally:
            pwfile.unlink(missing_ok=True)
        (self.root / "server.json").write_text(
            json.dumps({"port": _free_port(), "role": ROLE, "database": DATABASE})
        )

    def running(self) -> bool:
        if not self.data.exists():
            return False
        try:
            self._run(f"pg_ctl -D {shlex.quote(str(self.data))} status")
        except PostgresError:
            return False
        return True

    def start(self, fast: bool = False) -> None:
        """Start the server (if it is not running) and create the database once. ``fast``:
        no fsync (throwaway test servers only)."""
        self.init()
        if not self.running():
            self.socket_dir.mkdir(exist_ok=True)
            self._own(self.socket_dir)
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.socket_dir} "
                "-c unix_socket_permissions=0700"
            )
            if fast:
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            q = shlex.quote
            try:
                self._run(
                    f"pg_ctl -D {q(str(self.data))} -l {q(str(self.log))} -w -t 60 "
                    f"-o {q(options)} start"
                )
            except PostgresError as err:
                tail = self.log.read_text()[-1500:] if self.log.exists() else ""
                raise PostgresError(f"{err}\n{tail}") from None
        self.create_database(DATABASE)

    def create_database(self, name: str) -> str:
        """``name`` on this server, created if missing (the ``postgres`` database is there
        from initdb)."""
        import psycopg2

        conn = psycopg2.connect(**self.connect_args("postgres"))
        try:
            conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            conn.close()
        return name

    def connect_args(self, database: str = DATABASE) -> dict[str, object]:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "user": ROLE,
            "password": self.password,
            "dbname": database,
        }

    def stop(self, immediate: bool = False) -> bool:
        """Stop the server; False if it was not running."""
        if not self.running():
            return False
        mode = "immediate" if immediate else "fast"
        self._run(f"pg_ctl -D {shlex.quote(str(self.data))} -m {mode} -w -t 60 stop")
        return True

    def env(self, database: str = DATABASE) -> dict[str, str]:
        """The DAGSTER_PG_* variables our instance template reads."""
        return {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_DB": database,
            "DAGSTER_PG_USERNAME": ROLE,
            "DAGSTER_PG_PASSWORD": self.password,
        }
