"""Spark start-up checks that need no JVM."""

from __future__ import annotations

import os

import pytest

from f1_pipeline.core.spark import (
    SHORT_JOB_BYTES,
    ClassArchive,
    JavaMissing,
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


def test_the_class_archive_is_recorded_once_then_mapped(tmp_path):
    archive = ClassArchive(tmp_path / "classes")
    assert archive.java_options() == []  # none yet, and this JVM is not asked to record
    [record, *quiet] = archive.java_options(record=True)
    assert record == f"-XX:ArchiveClassesAtExit={archive.recording}"
    assert str(os.getpid()) in archive.recording.name
    assert quiet == ["-Xlog:disable", "-Xlog:all=warning:stderr"]  # JVM notes off stdout
    assert not archive.adopt()  # the JVM has not written it (yet)
    archive.recording.write_bytes(b"")
    assert not archive.adopt()  # nor an empty file: a JVM that died while writing
    archive.recording.write_bytes(b"classes")
    assert archive.adopt()
    assert archive.path.read_bytes() == b"classes"
    assert not archive.recording.exists()
    assert archive.java_options(record=True)[0] == f"-XX:SharedArchiveFile={archive.path}"


def test_adopting_an_archive_drops_stale_ones_but_not_a_recording_under_way(tmp_path):
    folder = tmp_path / "classes"
    folder.mkdir()
    other_runtime = folder / "spark-classes-0123456789ab.jsa"  # another Java or Spark
    abandoned = folder / "spark-classes-0123456789ab.jsa.99.tmp"  # a killed recording
    under_way = folder / "spark-classes-0123456789ab.jsa.98.tmp"  # another process's
    for path in (other_runtime, abandoned, under_way):
        path.write_bytes(b"x")
    os.utime(abandoned, (0, 0))
    archive = ClassArchive(folder)
    archive.recording.write_bytes(b"classes")
    assert archive.adopt()
    assert sorted(p.name for p in folder.iterdir()) == sorted([archive.path.name, under_way.name])


def test_a_short_job_stops_at_the_c1_compiler():
    assert jit_options(8 * 2**20) == ["-XX:TieredStopAtLevel=1"]  # x100: 8 MB
    assert jit_options(SHORT_JOB_BYTES) == []  # x1000: 72 MB keeps C2
