"""The local Spark engine: a Spark Connect server on loopback that runs talk to as clients.

- the **warm engine**: one long-lived server per Dagster home (`f1-pipeline spark start`),
  found through a state file in the home; a run connects in about a second;
- else a **private server**: started by the process that needs Spark, tied to it (it stops
  when that process ends, however it ends), the cold path.

Every server requires a token (``SPARK_CONNECT_AUTHENTICATE_TOKEN``, given to the server
through its environment only: never on a command line, which every local user can read in
``/proc/*/cmdline``); the warm engine's is kept in a 0600 state file. Clients connect to
``sc://localhost:PORT`` (with a token, pyspark's client uses TLS for any other host name).
A server that died is replaced by a new one and a new session (public APIs only: a classic
in-process JVM that died cannot be replaced in the same process).

pyspark 4.3's ``spark.local.connect.reuse`` does much the same per OS user; it is not used:
it shares one server between every Dagster home of a user, configured by whichever started
it first (our homes differ: class archives, masters), and it is marked experimental.
Dagster-free: the CLI starts and stops the servers, the runner finds them.
"""

from __future__ import annotations

import atexit
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from f1_pipeline.core.spark import SQL_CONF

STATE_FILE = "spark-connect.json"
DEFAULT_PORT = 15002
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
TOKEN_ENV = "SPARK_CONNECT_AUTHENTICATE_TOKEN"
HOST = "localhost"  # with a token, the only host pyspark's client talks to without TLS
# Settings that only the server's JVM takes (the client session cannot change them).
_SERVER_ONLY = ("spark.master", "spark.app.name", "spark.driver.", "spark.ui.", "spark.pyspark.")
# Runs the server as a child that ends when this process does: its stdin is a pipe from this
# process, and end-of-file (this process gone, or a deliberate stop) stops the server. The
# shell itself ends when the server does (a server that died is seen at once).
_TIED = ["/bin/sh", "-c",
         'exec 3<&0; "$@" <&- & child=$!; (cat <&3 >/dev/null; kill -TERM $child 2>/dev/null) & '
         'wait $child',
         "f1-spark-connect"]  # fmt: skip


class EngineError(RuntimeError):
    """The Connect server could not be started or reached; the message says why."""


def process_start(pid: int) -> int | None:
    """The process's start time (clock ticks since boot): with the pid, what identifies it."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _is_server(pid: int) -> bool:
    try:
        return SERVER_CLASS.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@dataclass(frozen=True)
class ConnectServer:
    """A running server: ``pid`` is its JVM, ``started`` that process's start time."""

    pid: int
    port: int
    log: str
    started_at: str
    token: str = ""
    started: int | None = None

    @property
    def url(self) -> str:
        return f"sc://{HOST}:{self.port}"

    def is_same_process(self) -> bool:
        """The pid is still this server (not a process that reused its number)."""
        start = process_start(self.pid)
        return start is not None and start == self.started and _is_server(self.pid)

    def __repr__(self) -> str:  # never the token
        return f"ConnectServer(pid={self.pid}, port={self.port}, log={self.log!r})"


def state_path(home: Path) -> Path:
    return home / STATE_FILE


def read_state(home: Path) -> ConnectServer | None:
    try:
        return ConnectServer(**json.loads(state_path(home).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _write_state(home: Path, server: ConnectServer) -> None:
    """The state, token included, readable by the owner only (0600 from creation on)."""
    path = state_path(home)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(json.dumps(asdict(server)))
    os.replace(tmp, path)


def _port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def running_server(home: Path) -> ConnectServer | None:
    """The warm engine of this Dagster home, if it still runs and listens."""
    server = read_state(home)
    if server is None or not server.is_same_process() or not _port_open(server.port):
        return None
    return server


def _free_port(preferred: int) -> int:
    """``preferred`` when free (0: any free port)."""
    if preferred and not _port_open(preferred):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command(conf: Mapping[str, str], port: int) -> list[str]:
    """spark-submit of the Connect server that ships in the pyspark wheel, bound to
    127.0.0.1 only, with the pipeline's Spark settings (and no secret: see the module)."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    args = [str(spark_home / "bin" / "spark-submit"), "--class", SERVER_CLASS,
            "--name", "f1-pipeline Spark Connect"]  # fmt: skip
    settings = {
        **conf,
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
    }
    for key, value in settings.items():
        args += ["--conf", f"{key}={value}"]
    return args


def _server_env(token: str) -> dict[str, str]:
    import pyspark

    env = {**os.environ, "SPARK_HOME": str(Path(pyspark.__file__).parent),
           "PYSPARK_PYTHON": sys.executable, TOKEN_ENV: token}  # fmt: skip
    env.pop("SPARK_CONNECT_MODE_ENABLED", None)
    return env


def _java_child(pid: int, timeout: float = 10.0) -> int:
    """The JVM a tied server's shell runs (its only child)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            children = []
        if children:
            return int(children[0])
        time.sleep(0.05)
    return pid


def _wait_listening(process: subprocess.Popen, port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not _port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise EngineError(f"the Spark Connect server did not start; see {log}")
        time.sleep(0.1)


class PrivateServer:
    """A Connect server this process started for itself; it stops when the process ends
    (its stdin is a pipe from here), and with :meth:`stop`. Starts at once and is waited
    for on first use, so a JVM boots while the caller does other work."""

    def __init__(self, conf: Mapping[str, str], log: Path) -> None:
        self.token = secrets.token_urlsafe(24)
        self.port = _free_port(0)
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [*_TIED, *server_command(conf, self.port)], stdin=subprocess.PIPE,
                stdout=out, stderr=subprocess.STDOUT, env=_server_env(self.token),
            )  # fmt: skip
        self._session: Any = None

    @property
    def url(self) -> str:
        return f"sc://{HOST}:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None and _port_open(self.port)

    def ready(self, timeout: float = 180.0) -> PrivateServer:
        _wait_listening(self.process, self.port, self.log, timeout)
        return self

    def session(self, conf: Mapping[str, str] | None = None) -> Any:
        """This server's client session (one per server, made on first use)."""
        if self._session is None:
            self._session = connect(self.ready().url, conf, self.token)
        return self._session

    def forget(self) -> None:
        """Drop a server that died: its session is left alone (a channel to a dead server
        is closed by gRPC when collected), its tie closed."""
        self._session = None
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()

    def close_session(self) -> None:
        """Close this server's client session without a call to the server: a client left
        open calls its server as the process exits and, if that is gone, retries for
        minutes."""
        if self._session is not None:
            close(self._session)
            self._session = None

    def stop(self, timeout: float = 120.0) -> bool:
        """Stop the server and wait for its JVM to end (a class archive it records is
        written as it exits); False when it did not end in time."""
        self.close_session()
        stdin = self.process.stdin
        if stdin is not None and not stdin.closed:
            stdin.close()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True  # the shell ends when the JVM has (an archive it records is written)

    def kill(self) -> None:
        """The server's JVM dies at once (tests: a JVM lost to the OOM killer)."""
        os.kill(_java_child(self.process.pid), signal.SIGKILL)


_PRIVATE: PrivateServer | None = None


def private_server(conf: Mapping[str, str], log: Path) -> PrivateServer:
    """This process's private server: started now if there is none, or if it died."""
    global _PRIVATE
    if _PRIVATE is None or _PRIVATE.process.poll() is not None:
        if _PRIVATE is not None:
            _PRIVATE.forget()  # it died
        _PRIVATE = PrivateServer(conf, log)
    return _PRIVATE


def current_private_server() -> PrivateServer | None:
    return _PRIVATE


def stop_private_server(timeout: float = 120.0) -> bool:
    """Stop this process's private server, if it runs (see :meth:`PrivateServer.stop`)."""
    global _PRIVATE
    server, _PRIVATE = _PRIVATE, None
    return server.stop(timeout) if server is not None else False


def start(
    home: Path, conf: Mapping[str, str], port: int = DEFAULT_PORT, timeout: float = 180.0
) -> ConnectServer:
    """Start the warm engine of ``home`` (or return the one already running); returns once
    it answers the pipeline's own steps (it is warmed up with them)."""
    running = running_server(home)
    if running is not None:
        return running
    port = _free_port(port)
    log = home / "logs" / "spark-connect.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    with log.open("ab") as out:
        process = subprocess.Popen(
            server_command(conf, port), stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, env=_server_env(token),
            start_new_session=True,  # outlives this command; its own process group
        )  # fmt: skip
    server = ConnectServer(process.pid, port, str(log), datetime.now(UTC).isoformat(), token,
                           process_start(process.pid))  # fmt: skip
    _write_state(home, server)
    try:
        _wait_listening(process, port, log, timeout)
    except EngineError:
        stop(home)
        raise
    # Warm-up (see WARM_UP_ROUNDS): the first real runs find the server's code generated
    # and its JIT warm. In a child process (the token through its environment, never its
    # command line).
    subprocess.run(
        [sys.executable, "-c", "from f1_pipeline.core.engine import warm_up; warm_up()"],
        check=False, capture_output=True, timeout=timeout,
        env={**_server_env(token), "F1_WARM_UP_URL": server.url},
    )  # fmt: skip
    return server


# A JVM compiles a method after thousands of calls: the warm-up runs the steps on an upload
# shaped like the real ones (seasons of races, each with a field of drivers, some missing
# values), several times, each on a fresh scratch root, so the first real runs find the
# server's generated code compiled and hot rather than only its classes loaded.
WARM_UP_ROUNDS = 3
_WARM_UP_SEASONS, _WARM_UP_RACES, _WARM_UP_FIELD = range(1985, 2025), 20, 20


def warm_up_upload() -> dict[str, str]:
    """races.csv and results.csv of the synthetic warm-up upload."""
    races = ["raceId,year,round,name,date,time"]
    results = ["resultId,raceId,driverId,position,fastestLapTime"]
    race_id = result_id = 0
    for season in _WARM_UP_SEASONS:
        for rnd in range(1, _WARM_UP_RACES + 1):
            race_id += 1
            races.append(
                f"{race_id},{season},{rnd},Warm-up Grand Prix,{season}-03-{rnd:02d},15:00:00"
            )
            for place in range(1, _WARM_UP_FIELD + 1):
                result_id += 1
                position = "\\N" if place == _WARM_UP_FIELD else str(place)
                lap = "\\N" if place % 7 == 0 else f"1:{30 + place % 20}.{place:03d}"
                results.append(f"{result_id},{race_id},{place},{position},{lap}")
    return {"races": "\n".join(races) + "\n", "results": "\n".join(results) + "\n"}


def warm_up() -> None:
    """Warm up the server at ``$F1_WARM_UP_URL`` (its token in the environment)."""
    from f1_pipeline.core.spark import spark_config

    warm_up_steps(connect(os.environ["F1_WARM_UP_URL"], spark_config()))


def _ignore(_outcome: object) -> None:
    """The warm-up's check outcomes: nobody reads them."""


def warm_up_steps(session: Any, rounds: int = WARM_UP_ROUNDS) -> list[int]:
    """Run the ingest and stats steps ``rounds`` times on the warm-up upload, each in a
    fresh scratch root; returns the seasons the last round published."""
    import logging
    import tempfile

    from f1_pipeline.core.steps import StepContext, run_step
    from f1_pipeline.core.steps.io import LocalStagedIO
    from f1_pipeline.core.storage import LocalStorage, layout

    upload, published = warm_up_upload(), []
    log = logging.getLogger("f1_pipeline.warm_up")
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="f1-warm-up-") as root:
            storage = LocalStorage(Path(root))
            for table, text in upload.items():
                storage.write_bytes(layout.source_csv(table), text.encode())
            ctx = StepContext(storage, session, LocalStagedIO(storage), log, "warm-up", _ignore)
            run_step("ingest", ctx, {})
            stats = run_step("season_stats", ctx, {"seasons": list(_WARM_UP_SEASONS)})
            published = stats.data["seasons"]
    return published


def stop(home: Path, timeout: float = 30.0) -> ConnectServer | None:
    """Stop the warm engine ``home`` started (its process group), after checking the pid
    is still that server (start time and command line): a pid reused by another process is
    never signalled. None if none ran."""
    server = read_state(home)
    state_path(home).unlink(missing_ok=True)
    if server is None or not server.is_same_process():
        return None
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return server
        deadline = time.monotonic() + wait
        while server.is_same_process() and time.monotonic() < deadline:
            time.sleep(0.2)
        if not server.is_same_process():
            break
    return server


def reachable(url: str) -> bool:
    """Whether something listens at a Connect URL (checked before connecting: the client
    retries an unreachable server for minutes)."""
    host, _, port = url.removeprefix("sc://").split("/", 1)[0].partition(":")
    try:
        with socket.create_connection((host, int(port or DEFAULT_PORT)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


def client_conf(conf: Mapping[str, str]) -> dict[str, str]:
    """The part of the pipeline's Spark settings a Connect client session may set."""
    return {k: v for k, v in conf.items() if not k.startswith(_SERVER_ONLY)}


def is_connect_session(session: Any) -> bool:
    return type(session).__module__.startswith("pyspark.sql.connect")


def connect(url: str, conf: Mapping[str, str] | None = None, token: str | None = None) -> Any:
    """A new Spark Connect session on ``url`` with the pipeline's session settings. The token
    is ``token``, else the client's environment's (``SPARK_CONNECT_AUTHENTICATE_TOKEN``)."""
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.client.retries import DefaultPolicy

    target = f"{url.rstrip('/')}/;token={token}" if token else url
    session = SparkSession.builder.remote(target).create()
    # A server on loopback answers at once or is gone: retry a call for seconds, not the
    # client's default ten minutes (a dead server's calls would hold up a run, and the
    # process's exit).
    session.client.set_retry_policies([DefaultPolicy(max_retries=5, max_backoff=1000)])
    _SESSIONS.add(session)
    for key, value in {**client_conf(conf or {}), **SQL_CONF}.items():
        session.conf.set(key, value)
    return session


# Every session this process opened, closed before the interpreter finalises: a gRPC channel
# left for the garbage collector at exit can wait forever on a lock a stopped thread held.
_SESSIONS: weakref.WeakSet[Any] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for session in list(_SESSIONS):
        close(session)


def close(session: Any) -> None:
    """Close a Connect session's channel without calling its server (see
    :meth:`PrivateServer.close_session`)."""
    try:
        session.client.close()
    except Exception:  # already closed, or never opened: nothing left to close
        return


def server_for(home: Path | None) -> ConnectServer | None:
    """The warm engine a run of ``home`` uses, if it runs."""
    return running_server(home) if home is not None else None
