"""`f1-pipeline team`'s refusals and its process records (the whole set-up runs in
e2e/test_team_e2e.py)."""

from __future__ import annotations

import sys

from f1_pipeline.cli import main, services
from f1_pipeline.defs.instance import prepare_home


def test_the_team_set_up_refuses_the_sqlite_home_of_make_ui(tmp_path, monkeypatch, capsys):
    home = prepare_home(tmp_path / "home")  # `make ui`'s: runs in SQLite
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["team", "up"]) != 0
    err = capsys.readouterr().err
    assert "keeps Dagster's runs in SQLite" in err
    assert ".dagster-team" in err
    assert not (home / "team" / "postgres").exists()  # nothing was started


def test_env_and_reload_need_a_running_team(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    for action in ("env", "reload"):
        assert main(["team", action]) != 0
        assert "no team set-up runs" in capsys.readouterr().err
    assert main(["team", "status"]) == 1


def test_a_service_is_stopped_with_its_children_and_never_by_a_reused_pid(tmp_path):
    script = "import subprocess, time; subprocess.Popen(['sleep', '60']); time.sleep(60)"
    service = services.spawn(
        "sleeper", [sys.executable, "-c", script], {}, tmp_path / "sleeper.log", tmp_path
    )
    assert service.alive()
    impostor = services.Service("sleeper", service.pid, (service.started or 0) + 1, "", ())
    assert not impostor.alive()
    assert services.stop(impostor) is False  # another process's pid: never signalled
    assert service.alive()
    import time

    deadline = time.monotonic() + 10
    while len(services.group_members(service)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(services.group_members(service)) == 2  # the script and its sleep
    assert services.stop(service) is True
    assert not service.alive()
    assert services.group_members(service) == []
    services.save(tmp_path / "s.json", [service], {"url": "http://127.0.0.1:1"})
    assert services.load(tmp_path / "s.json") == ([service], {"url": "http://127.0.0.1:1"})
