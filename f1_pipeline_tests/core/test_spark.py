"""Spark start-up checks that need no JVM."""

from __future__ import annotations

import os

import pytest

from f1_pipeline.core.spark import JavaMissing, require_java


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
