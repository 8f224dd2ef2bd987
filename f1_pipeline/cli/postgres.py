"""The PostgreSQL cluster of a Dagster home's own, for the team set-up on one machine
(`f1-pipeline team up` when no server is named by DAGSTER_PG_*) and for the tests. The server
itself is run by supervisord (see team.py); what is ours is the cluster's set-up.

The cluster lives in ``<home>/team/postgres``; its server listens on 127.0.0.1 only (and a
Unix socket in that folder, 0700), and every connection, TCP or socket, authenticates with a
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
import shutil
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.core.processes import free_port, write_private

SERVICE_USER = "postgres"  # the OS user the server runs as when we are root
ROLE = "dagster"  # the database superuser Dagster connects as
DATABASE = "dagster"
# psycopg2's connection keywords -> the DAGSTER_PG_* variables our instance template reads.
PG_ENV = {"host": "DAGSTER_PG_HOST", "port": "DAGSTER_PG_PORT", "dbname": "DAGSTER_PG_DB",
          "user": "DAGSTER_PG_USERNAME", "password": "DAGSTER_PG_PASSWORD"}  # fmt: skip


def available() -> bool:
    return shutil.which("initdb") is not None and shutil.which("postgres") is not None


@dataclass(frozen=True)
class Cluster:
    """The cluster under ``root``: ``data/`` (PostgreSQL's), ``socket/``, ``server.json``
    (its port) and ``password`` (0600)."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def owner(self) -> str | None:
        """The user the server runs as: ours, or ``postgres`` when we are root."""
        return SERVICE_USER if os.geteuid() == 0 else None

    @property
    def password(self) -> str:
        return (self.root / "password").read_text().strip()

    @property
    def port(self) -> int:
        return int(json.loads((self.root / "server.json").read_text())["port"])

    def run(self, argv: list[str]) -> None:
        """``argv`` as the cluster's owner; a CommandError with its output if it fails."""
        done = subprocess.run(
            argv, user=self.owner, group=self.owner, extra_groups=[] if self.owner else None,
            cwd=self.root, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip()[-800:]
            raise CommandError(f"`{Path(argv[0]).name}` failed ({done.returncode}): {output}")

    def init(self) -> Cluster:
        """Create the cluster (once): the role, a generated password, password auth only."""
        if not available():
            raise CommandError(
                "no initdb/postgres on PATH: install PostgreSQL (e.g. `apt-get install "
                "postgresql`) or name a server with F1_DAGSTER_STORAGE=postgres and DAGSTER_PG_*"
            )
        (self.root / "socket").mkdir(parents=True, exist_ok=True)
        for path in (self.root, self.root / "socket"):
            if self.owner:
                shutil.chown(path, self.owner, self.owner)
        if (self.data / "PG_VERSION").exists() and (self.root / "password").exists():
            return self
        shutil.rmtree(self.data, ignore_errors=True)
        password = secrets.token_urlsafe(24)
        write_private(self.root / "password", password)
        # initdb reads the password from a file its own user can read; removed right after.
        pwfile = self.root / ".initdb-password"
        write_private(pwfile, password)
        if self.owner:
            shutil.chown(pwfile, self.owner, self.owner)
        try:
            self.run([
                "initdb", "-D", str(self.data), "-U", ROLE, "-E", "UTF8", "--locale=C",
                "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", f"--pwfile={pwfile}",
            ])  # fmt: skip
        finally:
            pwfile.unlink(missing_ok=True)
        (self.root / "server.json").write_text(json.dumps({"port": free_port()}))  # from now on
        return self

    def options(self) -> list[str]:
        """The server's options (its data folder aside): loopback and the 0700 socket only."""
        return ["-c", "listen_addresses=127.0.0.1", "-p", str(self.port),
                "-k", str(self.root / "socket"), "-c", "unix_socket_permissions=0700"]  # fmt: skip

    def command(self) -> list[str]:
        """The server in the foreground (what supervisord runs)."""
        return [shutil.which("postgres") or "postgres", "-D", str(self.data), *self.options()]

    def create_database(self, name: str = DATABASE) -> str:
        """``name`` on the running server, created if missing (the ``postgres`` database is
        there from initdb)."""
        import psycopg2

        with closing(psycopg2.connect(**self.connect_args("postgres"))) as conn:
            conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
            with conn.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cursor.fetchone() is None:
                    cursor.execute(f'CREATE DATABASE "{name}"')
        return name

    def ready(self) -> bool:
        """Whether the server accepts connections; the database is created then (once)."""
        import psycopg2

        try:
            self.create_database()
        except psycopg2.OperationalError:
            return False
        return True

    def connect_args(self, database: str = DATABASE) -> dict[str, object]:
        return {"host": "127.0.0.1", "port": self.port, "user": ROLE,
                "password": self.password, "dbname": database}  # fmt: skip

    def env(self, database: str = DATABASE) -> dict[str, str]:
        """The DAGSTER_PG_* variables our instance template reads."""
        args = self.connect_args(database)
        return {name: str(args[key]) for key, name in PG_ENV.items()}
