"""Spark's configuration for every session the steps run on, the JVMs' class archive, and the
warm engine as runs find it. No Dagster here.

A local run's session is chosen by :meth:`Engine.session_config`, the one place that
decides: a client of a Spark Connect server (F1_SPARK_REMOTE, or the warm engine that
`f1-pipeline spark start` runs for the Dagster home) or the run's own in-process session.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from f1_pipeline.core.processes import port_open, process_start, write_private

DEFAULT_MASTER = "local[*]"
# What the Spark resource reads (f1_pipeline.defs.resources.SparkResource), named once here: a
# command starts its JVM from the same variables before Dagster is imported (start_ahead).
MASTER_VAR, REMOTE_VAR, CLASSES_VAR = "F1_SPARK_MASTER", "F1_SPARK_REMOTE", "F1_SPARK_CLASSES"
MODE_VAR = "F1_SPARK_MODE"  # the step runner's: local, or glue (no local JVM)
LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
TOKEN_ENV = "SPARK_CONNECT_AUTHENTICATE_TOKEN"
# SQL behaviour that differs between Spark lines (Glue 5 runs 3.5, the local session 4.x) or
# hosts, made explicit: every session that runs the steps gets these, on Glue too.
SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # 4.x's default, off by default on 3.5: an unexpected cast or overflow fails loudly
    # instead of becoming a null. The transforms do not depend on it (they never cast a value
    # that was not matched first), so this only guards code added later.
    "spark.sql.ansi.enabled": "true",
    # Small tables: the default of 200 shuffle partitions costs seconds per stage.
    "spark.sql.shuffle.partitions": "4",
    # Plans fixed when they start: adaptive execution re-plans each shuffle as a job of its
    # own (a step's ~15 checks and summaries were ~15 jobs), which at these sizes only costs.
    "spark.sql.adaptive.enabled": "false",
}


def spark_config(master: str = DEFAULT_MASTER, java_options: Sequence[str] = ()) -> dict[str, str]:
    """Settings of a Spark started here (a run's own session, the warm engine), tuned for
    small, many-season jobs on a laptop-sized machine; ``java_options`` for its JVM."""
    log4j = f"-Dlog4j2.configurationFile={LOG4J_CONFIG}"
    return {
        "spark.master": master,
        "spark.app.name": "f1-pipeline",
        **SQL_CONF,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # Errors only, from the JVM's start (see log4j2.properties).
        "spark.driver.extraJavaOptions": " ".join([log4j, *java_options]),
        # Python workers (when any) run this interpreter, not whatever python3 is on PATH.
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        # Keep the driver on loopback: nothing of ours listens on other interfaces.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
    }


# Below this much source data a run's JVM lives seconds: HotSpot's optimising compiler (C2)
# then costs more CPU than it saves on a 2-core machine, so the JVM stops at C1.
SHORT_JOB_BYTES = 32 * 2**20


def jit_options(source_bytes: int | None) -> list[str]:
    """JIT options for a JVM started to process ``source_bytes`` of input and exit."""
    return ["-XX:TieredStopAtLevel=1"] if (source_bytes or 0) < SHORT_JOB_BYTES else []


class ClassArchive:
    """A class-data archive (Java's AppCDS) of the classes a Spark JVM loads, kept in
    ``folder``: a JVM that maps it starts and runs its first queries seconds sooner. While
    there is none, a JVM started here can record one as it exits (:meth:`new_recording`: the
    warm engine's as it stops, a command-line run's own JVM after the run); whoever waited
    for that JVM's exit then :meth:`adopt` s the recording, shared by every later JVM of the
    same Java and Spark. A JVM that cannot use it runs without it."""

    STALE_SECONDS = 3600  # a recording left this long belongs to a JVM that died

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / f"spark-classes-{_runtime_key()}.jsa"

    def new_recording(self) -> Path | None:
        """Where a JVM started now records the archive (its own file), None when there is
        one already."""
        if self.path.is_file():
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.path.with_name(f"{self.path.name}.{uuid.uuid4().hex[:12]}.tmp")

    def java_options(self, recording: Path | None = None) -> list[str]:
        """Map the archive when there is one; else record one at exit to ``recording``."""
        # The JVM's own warnings (a class it cannot archive, an archive it cannot map) go to
        # its stderr, with Spark's log, rather than to this process's output.
        quiet = ["-Xlog:disable", "-Xlog:all=warning:stderr"]
        if self.path.is_file():
            return [f"-XX:SharedArchiveFile={self.path}", *quiet]
        if recording is not None:
            return [f"-XX:ArchiveClassesAtExit={recording}", *quiet]
        return []

    def adopt(self, recording: Path) -> bool:
        """Put ``recording``, written by a JVM that has exited cleanly, in place (atomically:
        a concurrent JVM maps a whole archive or none; never one still being written, which
        would crash it). Drops stale recordings and other runtimes' archives."""
        adopted = recording.is_file() and recording.stat().st_size > 0
        if adopted:
            os.replace(recording, self.path)
        now = time.time()
        for left in self.folder.glob("spark-classes-*.tmp"):
            if now - left.stat().st_mtime > self.STALE_SECONDS:
                left.unlink(missing_ok=True)
        for old in self.folder.glob("spark-classes-*.jsa"):
            if old != self.path:
                old.unlink(missing_ok=True)
        return adopted


def _java() -> Path | None:
    """Where Spark's launcher looks for java: ``$JAVA_HOME/bin/java`` (Spark's own
    variable, read as spark-class does), else the PATH's."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        return Path(java_home) / "bin" / "java"
    found = shutil.which("java")
    return Path(found) if found else None


def _runtime_key() -> str:
    """What an archive is only valid for: this Java binary and this Spark."""
    import pyspark

    java = _java()
    java = java.resolve() if java else None
    stamp = f"{java}:{java.stat().st_mtime_ns}" if java and java.exists() else "no-java"
    text = f"{stamp}|{pyspark.__version__}|{Path(pyspark.__file__).parent}"
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class JavaMissing(RuntimeError):
    """No Java to start Spark with: a setup problem, never retried."""


def require_java() -> None:
    """Raise :class:`JavaMissing` unless a ``java`` is where Spark's launcher looks for it:
    a clear sentence now rather than a Py4J error after retries."""
    java = _java()
    if java is not None and os.access(java, os.X_OK):
        return
    java_home = os.environ.get("JAVA_HOME")
    where = f"JAVA_HOME={java_home} has no bin/java" if java_home else "no java on the PATH"
    raise JavaMissing(
        f"Spark needs Java 17 and {where}: install a JDK or JRE 17 (e.g. `apt-get install "
        "openjdk-17-jre-headless`) or point JAVA_HOME at one; or use a running Spark Connect "
        "server (`f1-pipeline spark start` on a machine with Java, or F1_SPARK_REMOTE)"
    )


@dataclass(frozen=True)
class WarmEngine:
    """The warm engine of a Dagster home, as its 0600 state file records it."""

    pid: int
    started: int | None  # the JVM's start time (see process_start)
    port: int
    token: str
    log: str
    recording: str | None = None  # where its JVM records the class archive as it stops

    @property
    def url(self) -> str:
        # With a token, pyspark's client talks to "localhost" alone without TLS.
        return f"sc://localhost:{self.port}"

    def is_running(self) -> bool:
        """Still this JVM (not a process that reused its pid), and listening."""
        try:
            command = Path(f"/proc/{self.pid}/cmdline").read_bytes()
        except OSError:
            return False
        same = process_start(self.pid) == self.started and SERVER_CLASS.encode() in command
        return same and port_open(self.port)

    def __repr__(self) -> str:  # never the token
        return f"WarmEngine(pid={self.pid}, port={self.port}, log={self.log!r})"


class Engine:
    """The local Spark of a Dagster home: its warm engine's state file, the class archive,
    and the session a run of that home uses."""

    def __init__(
        self, home: Path | None, master: str = DEFAULT_MASTER, classes: Path | None = None
    ) -> None:
        self.master = master
        # Without a home (Dagster's throwaway instances): no warm engine, no archive.
        self.home = home or Path(tempfile.gettempdir()) / "f1-pipeline-no-home"
        self.archive = ClassArchive(classes or self.home / "spark")
        self.state = self.home / "spark" / "engine.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Engine:
        """The engine the Spark resource configures from ``env`` (DAGSTER_HOME and the
        variables above), read without Dagster."""
        home, classes = env.get("DAGSTER_HOME"), env.get(CLASSES_VAR)
        return cls(Path(home).resolve() if home else None, env.get(MASTER_VAR) or DEFAULT_MASTER,
                   Path(classes) if classes else None)  # fmt: skip

    def warm(self) -> WarmEngine | None:
        """The warm engine, if it runs."""
        try:
            engine = WarmEngine(**json.loads(self.state.read_text()))
        except (OSError, ValueError, TypeError):
            return None
        return engine if engine.is_running() else None

    def record(self, engine: WarmEngine) -> None:
        """The state, token included, readable by the owner only (0600 from creation on)."""
        self.state.parent.mkdir(parents=True, exist_ok=True)
        write_private(self.state, json.dumps(asdict(engine)))

    def server_config(self, recording: Path | None = None) -> dict[str, str]:
        """The settings of a JVM started here: the archive mapped (or recorded)."""
        return spark_config(self.master, self.archive.java_options(recording))

    def server_args(self, port: int, recording: Path | None = None) -> list[str]:
        """spark-submit's ``--conf`` arguments for this engine's Connect server on
        127.0.0.1:``port``."""
        conf = {
            **self.server_config(recording),
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(port),
        }
        return [arg for key, value in conf.items() for arg in ("--conf", f"{key}={value}")]

    def session_config(
        self, remote: str | None, source_bytes: int | None = None, recording: Path | None = None
    ) -> dict[str, Any]:
        """The session a run uses: ``remote`` (its token in the environment already), else
        the warm engine (its token put in this process's environment, as the Connect client
        reads it there, never in a configuration the UI shows), else the run's own (which
        records the class archive to ``recording``, if given, when there is none)."""
        warm = None if remote else self.warm()
        if warm is not None:
            os.environ[TOKEN_ENV] = warm.token
            remote = warm.url
        if remote:
            return {"spark.remote": remote, **SQL_CONF}
        require_java()
        java = [*self.archive.java_options(recording), *jit_options(source_bytes)]
        return spark_config(self.master, java)


_STARTING = threading.Lock()  # one JVM per process, however many threads ask


def local_session(conf: Mapping[str, str], log: Path | None = None) -> Any:
    """A classic (in-process JVM) SparkSession with ``conf``, or the one this process runs.

    With ``log``, the JVM writes its own output there for its whole life (what no log4j
    setting silences, e.g. "Using incubator modules", and Spark's errors), through pyspark's
    ``launch_gateway(popen_kwargs=...)``, which is there for capturing them: the process's
    own stdout and stderr stay untouched. Thread-safe: a JVM started ahead (see
    :func:`start_ahead`) is the one a run then gets."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    with _STARTING:
        builder = SparkSession.builder.config(map=dict(conf))
        if not any(_alive(session) for session, _ in _RUNNING):
            require_java()
            jvm = None
            if log is not None:
                log.parent.mkdir(parents=True, exist_ok=True)
                spark_conf = SparkConf().setAll(list(conf.items()))
                with log.open("ab") as out:
                    gateway = launch_gateway(spark_conf, {"stdout": out, "stderr": out})
                SparkContext(conf=spark_conf, gateway=gateway)
                jvm = gateway.proc  # the JVM (spark-submit execs it): its exit is awaitable
            _RUNNING[:] = [(builder.getOrCreate(), jvm)]
        return builder.getOrCreate()


def stop_local(timeout: float = 60.0) -> bool:
    """Stop the session :func:`local_session` started with a JVM of its own and wait for
    that JVM to exit (it does when its stdin closes; killed after ``timeout``). Whether it
    exited cleanly: only then is a class archive it recorded complete. For a process's end
    (pyspark keeps its gateway: no local session starts in this process afterwards)."""
    clean = False
    with _STARTING:
        for session, jvm in _RUNNING:
            if jvm is None:
                continue
            session.stop()
            jvm.stdin.close()
            try:
                clean = jvm.wait(timeout) == 0
            except subprocess.TimeoutExpired:
                jvm.kill()
        _RUNNING.clear()
    return clean


# The session local_session made, and its JVM process (None: not started here).
_RUNNING: list[tuple[Any, Any]] = []


def _alive(session: Any) -> bool:
    try:
        return bool(session.sparkContext.applicationId)
    except Exception:
        return False


def start_ahead(env: Mapping[str, str], source_bytes: int | None) -> Path | None:
    """Start the JVM of the run this process is about to make, in a background thread, while
    the caller goes on (importing Dagster, planning the run): its Spark resource, configured
    from the same ``env``, then gets this session (:func:`local_session`), its JVM up or
    coming up. Nothing starts when runs use a Connect server (F1_SPARK_REMOTE, or the warm
    engine). Returns where the JVM records the class archive (while there is none): complete
    once :func:`stop_local` says it exited cleanly. A failure here is left to the run's own
    start, which reports it."""
    engine = Engine.from_env(env)
    with _STARTING:
        if any(_alive(session) for session, _ in _RUNNING):
            return None  # this process runs one already
    recording = engine.archive.new_recording()
    try:
        conf = engine.session_config(env.get(REMOTE_VAR), source_bytes, recording)
    except JavaMissing:
        return None
    if "spark.remote" in conf:
        return None
    log = engine.home / "logs" / "spark.log"

    def start() -> None:
        with contextlib.suppress(Exception):
            local_session(conf, log)

    threading.Thread(target=start, name="f1-spark-start", daemon=True).start()
    if recording is not None:
        atexit.register(_finish_recording, engine.archive, recording)
    return recording


def _finish_recording(archive: ClassArchive, recording: Path) -> None:
    """At the process's end: its JVM stopped, the archive it recorded is put in place for
    the next JVMs (once per Java and Spark install) if it ran a run's Spark jobs: a JVM that
    ran none (its runs went to a daemon, the command failed early) loaded too few classes."""
    with _STARTING:
        worked = any(_ran_jobs(session) for session, _ in _RUNNING)
    if stop_local() and worked:
        archive.adopt(recording)
    else:
        recording.unlink(missing_ok=True)


def _ran_jobs(session: Any) -> bool:
    try:
        return bool(session.sparkContext.statusTracker().getJobIdsForGroup())
    except Exception:
        return False
