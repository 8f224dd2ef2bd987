"""Spark's configuration for every session the steps run on, the JVMs' class archive, and the
warm engine as runs find it. No Dagster here.

A local run's session is chosen by :meth:`Engine.session_config`, the one place that
decides: a client of a Spark Connect server (F1_SPARK_REMOTE, or the warm engine that
`f1-pipeline spark start` runs for the Dagster home) or the run's own in-process session.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_MASTER = "local[*]"
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
    ``folder``: a JVM that maps it starts and runs its first queries seconds sooner. It is
    recorded by the warm engine's JVM as it stops (``recording``, then :meth:`adopt`) and
    shared by every later JVM of the same Java and Spark, the runs' own sessions too; a JVM
    that cannot use it runs without it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / f"spark-classes-{_runtime_key()}.jsa"
        self.recording = self.path.with_name(f"{self.path.name}.tmp")

    def java_options(self, record: bool = False) -> list[str]:
        """Map the archive when there is one; else, with ``record``, write it at exit."""
        # The JVM's own warnings (a class it cannot archive, an archive it cannot map) go to
        # its stderr, with Spark's log, rather than to this process's output.
        quiet = ["-Xlog:disable", "-Xlog:all=warning:stderr"]
        if self.path.is_file():
            return [f"-XX:SharedArchiveFile={self.path}", *quiet]
        if record:
            self.folder.mkdir(parents=True, exist_ok=True)
            return [f"-XX:ArchiveClassesAtExit={self.recording}", *quiet]
        return []

    def adopt(self) -> bool:
        """Put the archive a stopped JVM wrote in place (atomically: a concurrent JVM maps a
        whole archive or none) and drop stale ones."""
        if not self.recording.is_file() or self.recording.stat().st_size == 0:
            return False
        os.replace(self.recording, self.path)
        for old in self.folder.glob("spark-classes-*.jsa"):
            if old != self.path:
                old.unlink(missing_ok=True)
        return True


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


def process_start(pid: int) -> int | None:
    """The process's start time (clock ticks since boot): with the pid, what identifies it."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class WarmEngine:
    """The warm engine of a Dagster home, as its 0600 state file records it."""

    pid: int
    started: int | None  # the JVM's start time (see process_start)
    port: int
    token: str
    log: str

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
        tmp = self.state.with_name(f".{self.state.name}.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(json.dumps(asdict(engine)))
        os.replace(tmp, self.state)

    def server_config(self, record: bool = False) -> dict[str, str]:
        """The settings of a JVM started here: the archive mapped (or recorded)."""
        return spark_config(self.master, self.archive.java_options(record))

    def session_config(self, remote: str | None, source_bytes: int | None = None) -> dict[str, Any]:
        """The session a run uses: ``remote`` (its token in the environment already), else
        the warm engine (its token put in this process's environment, as the Connect client
        reads it there, never in a configuration the UI shows), else the run's own."""
        warm = None if remote else self.warm()
        if warm is not None:
            os.environ[TOKEN_ENV] = warm.token
            remote = warm.url
        if remote:
            return {"spark.remote": remote, **SQL_CONF}
        require_java()
        return spark_config(self.master, [*self.archive.java_options(), *jit_options(source_bytes)])


@contextmanager
def stderr_to(path: Path) -> Iterator[None]:
    """File descriptor 2 points at ``path`` meanwhile: a JVM started now keeps writing its own
    notices there for its whole life (what no log4j setting silences, e.g. "Using incubator
    modules"); this process gets its stderr back after."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def local_session(conf: Mapping[str, str]) -> Any:
    """A classic (in-process JVM) SparkSession with ``conf`` (or the running one): the Glue
    job's session off Glue (the local stand-in) and the Spark 3.5 lane's."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    if SparkSession.getActiveSession() is None:
        require_java()
    return builder.getOrCreate()
