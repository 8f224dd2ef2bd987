"""The local Spark engine: a long-lived Spark Connect server on loopback (warm: a run connects
in about a second) or, when none runs, the embedded in-process session (cold: a JVM per run
process). Dagster-free: the CLI starts and stops the server, runs find it through a state
file in the Dagster home.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from f1_pipeline.core.spark import SQL_CONF

STATE_FILE = "spark-connect.json"
DEFAULT_PORT = 15002
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
# Settings that only the server's JVM takes (the client session cannot change them).
_SERVER_ONLY = ("spark.master", "spark.app.name", "spark.driver.", "spark.ui.", "spark.pyspark.")


class EngineError(RuntimeError):
    """The Connect server could not be started or reached; the message says why."""


@dataclass(frozen=True)
class ConnectServer:
    pid: int
    port: int
    log: str
    started_at: str

    @property
    def url(self) -> str:
        return f"sc://127.0.0.1:{self.port}"


def state_path(home: Path) -> Path:
    return home / STATE_FILE


def read_state(home: Path) -> ConnectServer | None:
    try:
        return ConnectServer(**json.loads(state_path(home).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _port_open(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not reaped) is not alive.
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()
    except OSError:
        return True


def running_server(home: Path) -> ConnectServer | None:
    """The server this Dagster home started, if it still runs and listens."""
    server = read_state(home)
    if server is None or not _pid_alive(server.pid) or not _port_open(server.port):
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
    127.0.0.1 only, with the pipeline's Spark settings."""
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


def start(
    home: Path, conf: Mapping[str, str], port: int = DEFAULT_PORT, timeout: float = 120.0
) -> ConnectServer:
    """Start the server (or return the one already running for ``home``); returns once it
    answers a query."""
    running = running_server(home)
    if running is not None:
        return running
    port = _free_port(port)
    log = home / "logs" / "spark-connect.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    import pyspark

    env = {**os.environ, "SPARK_HOME": str(Path(pyspark.__file__).parent),
           "PYSPARK_PYTHON": sys.executable}  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(
            server_command(conf, port), stdout=out, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,  # its own process group: stopped as a whole
        )  # fmt: skip
    server = ConnectServer(process.pid, port, str(log), datetime.now(UTC).isoformat())
    state_path(home).write_text(json.dumps(asdict(server)))
    deadline = time.monotonic() + timeout
    while not _port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop(home)
            raise EngineError(f"the Spark Connect server did not start; see {log}")
        time.sleep(0.25)
    # Warm-up: the steps once on a tiny upload, so the first real run finds the server's
    # code generated and its JIT warm (~5 s less on the sample). In a child process: a
    # Connect session switches pyspark in this process to Connect mode for good.
    warm_up = f"from f1_pipeline.core.engine import warm_up; warm_up({server.url!r})"
    subprocess.run(
        [sys.executable, "-c", warm_up], check=False, capture_output=True, timeout=timeout
    )
    return server


_WARM_UP_UPLOAD = {
    "races": "raceId,year,round,name,date,time\n1,2024,1,Warm-up Grand Prix,2024-03-02,15:00:00\n",
    "results": "resultId,raceId,driverId,position,fastestLapTime\n1,1,1,1,1:31.447\n2,1,2,\\N,\n",
}


def warm_up(url: str) -> None:
    """Run the ingest and stats steps on a two-row upload in a scratch root, through the
    server at ``url``."""
    import logging
    import tempfile

    from f1_pipeline.core.spark import spark_config
    from f1_pipeline.core.steps import StepContext, run_step
    from f1_pipeline.core.steps.io import LocalStagedIO
    from f1_pipeline.core.storage import LocalStorage, layout

    session = connect(url, spark_config())
    with tempfile.TemporaryDirectory(prefix="f1-warm-up-") as root:
        storage = LocalStorage(Path(root))
        for table, text in _WARM_UP_UPLOAD.items():
            storage.write_bytes(layout.source_csv(table), text.encode())
        log = logging.getLogger("f1_pipeline.warm_up")
        ctx = StepContext(storage, session, LocalStagedIO(storage), log, "warm-up", lambda _: None)
        run_step("ingest", ctx, {})
        run_step("season_stats", ctx, {"seasons": [2024]})


def stop(home: Path, timeout: float = 30.0) -> ConnectServer | None:
    """Stop the server ``home`` started (its whole process group); None if none ran."""
    server = read_state(home)
    state_path(home).unlink(missing_ok=True)
    if server is None or not _pid_alive(server.pid):
        return None
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(server.pid, sig)
        except ProcessLookupError:
            return server
        deadline = time.monotonic() + wait
        while _pid_alive(server.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if not _pid_alive(server.pid):
            break
    return server


def reachable(url: str) -> bool:
    """Whether something listens at a Connect URL (checked before connecting: the client
    retries an unreachable server for a long time)."""
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


def connect(url: str, conf: Mapping[str, str] | None = None) -> Any:
    """A Spark Connect session on ``url`` with the pipeline's session settings."""
    from pyspark.sql import SparkSession

    session = SparkSession.builder.remote(url).getOrCreate()
    for key, value in {**client_conf(conf or {}), **SQL_CONF}.items():
        session.conf.set(key, value)
    return session
