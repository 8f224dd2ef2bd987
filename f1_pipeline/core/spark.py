"""Spark's configuration for every session the steps run on (the local Connect servers, the
Glue job, the tests), the JVM class archive, and the classic session the Glue job uses off
Glue. No Dagster here."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_MASTER = "local[*]"
LOG4J_CONFIG = Path(__file__).with_name("log4j2.properties")
# SQL behaviour that differs between Spark lines (Glue 5 runs 3.5, the local session 4.x) or
# hosts, made explicit: every session that runs the steps gets these, on Glue too.
SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # 4.x's default, off by default on 3.5: an unexpected cast or overflow fails loudly
    # instead of becoming a null. The transforms do not depend on it (they never cast a value
    # that was not matched first), so this only guards code added later.
    "spark.sql.ansi.enabled": "true",
}


def spark_config(
    master: str = DEFAULT_MASTER,
    extra: Mapping[str, str] | None = None,
    java_options: Sequence[str] = (),
) -> dict[str, str]:
    """Local-session settings tuned for small, many-seasons jobs on a laptop-sized machine.
    ``java_options``: more options for the JVM this configuration starts (see
    :class:`ClassArchive`)."""
    log4j = f"-Dlog4j2.configurationFile={LOG4J_CONFIG}"
    return {
        "spark.master": master,
        "spark.app.name": "f1-pipeline",
        # Small tables: the default of 200 shuffle partitions costs seconds per stage.
        "spark.sql.shuffle.partitions": "4",
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
        **(extra or {}),
    }


# Below this much source data an embedded JVM lives seconds: HotSpot's optimising compiler
# (C2) then costs more CPU than it saves on a 2-core machine, so the JVM stops at C1.
# Measured (cold `f1-pipeline run`): sample 14.3 s -> 12.1 s; x1000 (72 MB) ingest 24 s -> 33 s,
# hence the bound.
SHORT_JOB_BYTES = 32 * 2**20


def jit_options(source_bytes: int) -> list[str]:
    """JIT options for a JVM started to process ``source_bytes`` of input and exit."""
    return ["-XX:TieredStopAtLevel=1"] if source_bytes < SHORT_JOB_BYTES else []


class ClassArchive:
    """A class-data archive (Java's AppCDS) of the classes a Spark JVM loads, kept in
    ``folder``: a JVM that maps it starts and compiles its first queries seconds sooner
    (sample, cold `f1-pipeline run`: 22 s without, 12 s with). It is recorded once, by a JVM
    that exits cleanly (:meth:`adopt` after :func:`stop_local_jvm`), and shared by every
    later JVM of the same Java and Spark; a JVM that cannot use it runs without it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / f"spark-classes-{_runtime_key()}.jsa"
        self.recording = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")

    def java_options(self, record: bool = False) -> list[str]:
        """Map the archive when there is one; else, with ``record``, have this JVM write it
        when it exits (only a JVM this process stops itself: see :meth:`adopt`)."""
        # The JVM's own warnings (a class it cannot archive, an archive it cannot map) go to
        # its stderr, with Spark's log, rather than to this process's output.
        quiet = ["-Xlog:disable", "-Xlog:all=warning:stderr"]
        if self.path.is_file():
            return [f"-XX:SharedArchiveFile={self.path}", *quiet]
        if record:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError:
                return []  # an unwritable folder: no archive, the run goes on
            return [f"-XX:ArchiveClassesAtExit={self.recording}", *quiet]
        return []

    def recording_options(self, options: Sequence[str]) -> bool:
        """Whether ``options`` have a JVM record this archive."""
        return f"-XX:ArchiveClassesAtExit={self.recording}" in options

    def discard(self) -> None:
        """Drop this process's recording (its JVM did not exit cleanly)."""
        self.recording.unlink(missing_ok=True)

    def adopt(self) -> bool:
        """Put the archive this process's JVM wrote at its exit in place (atomically: a
        concurrent JVM maps a whole archive or none) and drop stale ones."""
        if not self.recording.is_file() or self.recording.stat().st_size == 0:
            return False
        os.replace(self.recording, self.path)
        for old in self.folder.glob("spark-classes-*"):
            if old != self.path and (old.suffix == ".jsa" or _stale(old)):
                old.unlink(missing_ok=True)
        return True


def _stale(path: Path, seconds: float = 3600.0) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except FileNotFoundError:
        return False


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
    """No Java to start an embedded Spark session with: a setup problem, never retried."""


def require_java() -> None:
    """Raise :class:`JavaMissing` unless a ``java`` is where Spark's launcher looks for it
    (``$JAVA_HOME/bin/java``, else the PATH): a clear sentence now rather than a Py4J error
    after retries."""
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


def local_session(conf: Mapping[str, str], jvm_log: Path | None = None) -> Any:
    """A classic (in-process JVM) SparkSession with ``conf`` (or the running one): the Glue
    job's session off Glue (the local stand-in) and the Spark 3.5 lane's. ``jvm_log``: where
    the JVM's own stderr goes when this call starts it (the JVM prints notices no log4j
    setting silences, e.g. "Using incubator modules"); the terminal otherwise."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    running = SparkSession.getActiveSession() is not None
    if not running:
        require_java()
    if jvm_log is None or running:
        return builder.getOrCreate()
    with _stderr_to(jvm_log):
        return builder.getOrCreate()


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """File descriptor 2 points at ``path`` meanwhile: a child process started now (the JVM)
    keeps writing there for its whole life; this process gets its stderr back after."""
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
