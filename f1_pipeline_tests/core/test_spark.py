"""The one place a local run's session is chosen, and Spark start-up checks that need no JVM."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from f1_pipeline.core.spark import (
    SHORT_JOB_BYTES,
    TOKEN_ENV,
    ClassArchive,
    Engine,
    JavaMissing,
    WarmEngine,
    jit_options,
    require_java,
)


def test_no_java_is_said_in_one_sentence(monkeypatch, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    with pytest.raises(JavaMissing, match=r"Spark needs Java 17 and no java on the PATH"):
        require_java()
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    with pytest.raises(JavaMissing, match=r"JAVA_HOME=.*/jdk has no bin/java"):
        require_java()
    # ... and a run without a Spark Connect server says so before anything starts.
    with pytest.raises(JavaMissing):
        Engine(tmp_path).session_config(None)


def test_a_java_on_the_path_or_in_java_home_is_enough(monkeypatch, tmp_path):
    java = tmp_path / "bin" / "java"
    java.parent.mkdir()
    java.write_text("#!/bin/sh\n")
    os.chmod(java, 0o755)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(java.parent))
    require_java()
    monkeypatch.setenv("PATH", "")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path))
    require_java()


def test_the_class_archive_is_recorded_then_mapped(tmp_path):
    archive = ClassArchive(tmp_path / "classes")
    assert archive.java_options() == []  # none yet, and this JVM is not asked to record
    recording = archive.new_recording()
    assert recording is not None
    assert recording != archive.new_recording()
    [record, *quiet] = archive.java_options(recording)
    assert record == f"-XX:ArchiveClassesAtExit={recording}"
    assert quiet == ["-Xlog:disable", "-Xlog:all=warning:stderr"]  # JVM notes off stdout
    assert not archive.adopt(recording)  # the JVM did not write it
    recording.write_bytes(b"")
    assert not archive.adopt(recording)  # nor an empty file
    other_runtime = archive.folder / "spark-classes-0123456789ab.jsa"  # another Java or Spark
    other_runtime.write_bytes(b"x")
    abandoned = archive.new_recording()  # a JVM killed while writing, long ago
    assert abandoned is not None
    abandoned.write_bytes(b"half")
    os.utime(abandoned, (1, 1))
    recording.write_bytes(b"classes")
    assert archive.adopt(recording)
    assert archive.path.read_bytes() == b"classes"
    assert not recording.exists()
    assert not abandoned.exists()
    assert not other_runtime.exists()
    assert archive.new_recording() is None  # mapped from now on, never recorded again
    assert archive.java_options(recording)[0] == f"-XX:SharedArchiveFile={archive.path}"


def test_a_short_job_stops_at_the_c1_compiler():
    assert jit_options(8 * 2**20) == ["-XX:TieredStopAtLevel=1"]  # x100: 8 MB
    assert jit_options(SHORT_JOB_BYTES) == []  # x1000: 72 MB keeps C2


def test_a_run_uses_its_own_session_unless_a_connect_server_answers(tmp_path, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    engine = Engine(tmp_path, "local[2]")
    own = engine.session_config(None, source_bytes=1000)
    assert own["spark.master"] == "local[2]"
    assert "spark.remote" not in own
    assert "-XX:TieredStopAtLevel=1" in own["spark.driver.extraJavaOptions"]
    given = engine.session_config("sc://spark.example:15002")
    assert given["spark.remote"] == "sc://spark.example:15002"
    assert "spark.master" not in given  # the builder refuses it beside spark.remote
    assert given["spark.sql.session.timeZone"] == "UTC"

    # A state file left by a warm engine that died, or a pid another process reuses: the
    # run's own session, never a hang on a dead server.
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        for pid in (999_999, sleeper.pid):
            engine.record(WarmEngine(pid, 1, 1, "t0ken", "log"))
            assert engine.warm() is None
            assert "spark.remote" not in engine.session_config(None)
        assert TOKEN_ENV not in os.environ
    finally:
        sleeper.kill()
        sleeper.wait()


def test_the_state_file_is_the_owners_alone_and_never_shows_the_token(tmp_path):
    engine = Engine(tmp_path)
    warm = WarmEngine(1, 2, 3, "s3cr3t", "log")
    engine.record(warm)
    assert (engine.state.stat().st_mode & 0o777) == 0o600
    assert json.loads(engine.state.read_text())["token"] == "s3cr3t"
    assert "s3cr3t" not in repr(warm)
