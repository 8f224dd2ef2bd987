"""``f1-pipeline spark start|stop|status``: the warm engine, a Spark Connect server on
127.0.0.1 that the runs of a Dagster home connect to in about a second instead of starting
a JVM each.

Started by pyspark's own ``sbin/start-connect-server.sh`` (it daemonizes the server, rotates
its log and writes its pid file into the home); the token reaches the server through its
environment only (never a command line, which every local user can read) and runs through
the home's 0600 state file. Stopped here: the pid is checked to still be that server (start
time and command line; the script's own stop needs ``ps``, which slim images lack, and
trusts any java at that pid), then TERM, and KILL after a while. A JVM recording the class
archive writes it as it stops.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import CommandError
from f1_pipeline.core.processes import free_port, port_open, process_start
from f1_pipeline.core.spark import (
    SERVER_CLASS,
    TOKEN_ENV,
    Engine,
    WarmEngine,
    require_java,
)

IDENT = "f1-pipeline"  # spark-daemon.sh's ident: its pid file's name
DEFAULT_PORT = 15002


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    spark = commands.add_parser(
        "spark",
        parents=parents,
        help="the warm local Spark engine: a Spark Connect server on 127.0.0.1 that runs use",
    )
    actions = spark.add_subparsers(dest="spark_command", required=True)
    start = actions.add_parser("start", help="start it (or say where it already runs)")
    start.add_argument("--port", type=int, default=DEFAULT_PORT, help="preferred port")
    actions.add_parser("stop", help="stop it; runs then start a session of their own")
    actions.add_parser("status", help="is it running, and where (exit 1 if not)")


def _spark_env(engine: Engine, token: str) -> dict[str, str]:
    import pyspark

    return {
        **os.environ,
        "SPARK_HOME": str(Path(pyspark.__file__).parent),
        "SPARK_PID_DIR": str(engine.home / "spark"),
        "SPARK_LOG_DIR": str(engine.home / "logs"),
        "SPARK_IDENT_STRING": IDENT,
        "PYSPARK_PYTHON": sys.executable,
        TOKEN_ENV: token,
    }


def _pid_file(engine: Engine) -> Path:
    """Where spark-daemon.sh writes the server's pid (SPARK_PID_DIR, SPARK_IDENT_STRING)."""
    return engine.home / "spark" / f"spark-{IDENT}-{SERVER_CLASS}-1.pid"


def start(engine: Engine, port: int = DEFAULT_PORT, timeout: float = 180.0) -> WarmEngine:
    """Start the warm engine of ``engine``'s home (or return the one running), warmed up."""
    import pyspark

    running = engine.warm()
    if running is not None:
        return running
    require_java()
    token, port = secrets.token_urlsafe(24), free_port(port)
    env = _spark_env(engine, token)
    pid_file = _pid_file(engine)
    pid_file.unlink(missing_ok=True)
    recording = engine.archive.new_recording()
    script = Path(pyspark.__file__).parent / "sbin" / "start-connect-server.sh"
    args = engine.server_args(port, recording)
    Path(env["SPARK_LOG_DIR"]).mkdir(parents=True, exist_ok=True)
    subprocess.run([str(script), *args], env=env, capture_output=True, check=False, timeout=60)
    deadline = time.monotonic() + timeout
    while not (pid_file.is_file() and port_open(port)):
        if time.monotonic() > deadline:
            raise CommandError(
                f"the Spark Connect server did not start; see {env['SPARK_LOG_DIR']}"
            )
        time.sleep(0.2)
    pid = int(pid_file.read_text().strip())
    log = Path(env["SPARK_LOG_DIR"]) / f"spark-{IDENT}-{SERVER_CLASS}-1-{os.uname().nodename}.out"
    warm = WarmEngine(pid, process_start(pid), port, token, str(log),
                      str(recording) if recording else None)  # fmt: skip
    engine.record(warm)
    warm_up(warm.url, token, env, timeout)
    return warm


def warm_up(url: str, token: str, env: dict[str, str], timeout: float) -> bool:
    """The warm-up, in a client process of its own (the token through its environment): the
    first real runs find the server's code generated and its JIT warm. An optimisation only:
    one that has not ended after ``timeout`` (a loaded machine) is stopped, and the engine
    serves anyway, its first runs slower. Whether it ended."""
    try:
        subprocess.run(
            [sys.executable, "-m", "f1_pipeline.core.warm_up", url],
            env={**env, TOKEN_ENV: token}, capture_output=True, check=False, timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return False
    return True


def stop(engine: Engine, timeout: float = 60.0) -> WarmEngine | None:
    """Stop the warm engine (None if none runs); a class archive its JVM recorded as it
    stopped is put in place. A pid another process reuses is never signalled."""
    warm = engine.warm()
    engine.state.unlink(missing_ok=True)
    _pid_file(engine).unlink(missing_ok=True)
    if warm is None:
        return None
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        os.kill(warm.pid, sig)
        deadline = time.monotonic() + wait
        while process_start(warm.pid) == warm.started and time.monotonic() < deadline:
            time.sleep(0.2)
        if process_start(warm.pid) != warm.started:
            break
    if warm.recording and sig == signal.SIGTERM and process_start(warm.pid) != warm.started:
        engine.archive.adopt(Path(warm.recording))  # it exited on TERM: the archive is whole
    return warm


def command(cli: Cli, args: argparse.Namespace) -> int:
    from f1_pipeline.defs.instance import prepare_home, storage_of

    prepare_home(cli.home, storage_of(cli.env))  # `make ui` starts the engine first
    engine = cli.spark_engine()
    if args.spark_command == "start":
        warm = start(engine, args.port)
        print(f"Spark Connect server running at {warm.url} (pid {warm.pid}, log {warm.log});"
              " runs of this Dagster home use it")  # fmt: skip
        return 0
    if args.spark_command == "stop":
        stopped = stop(engine)
        print(f"stopped the Spark Connect server (pid {stopped.pid})" if stopped
              else "no Spark Connect server was running")  # fmt: skip
        return 0
    running = engine.warm()
    if running is None:
        print("no Spark Connect server running: each run starts a session of its own")
        return 1
    print(f"Spark Connect server running at {running.url} (pid {running.pid}, log {running.log})")
    return 0
