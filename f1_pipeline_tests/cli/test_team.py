"""`f1-pipeline team`'s refusals, the supervisord conf it writes and how a failing program is
reported (the whole set-up runs in e2e/test_team_e2e.py)."""

from __future__ import annotations

import argparse
import configparser
import json
import os
import subprocess
from pathlib import Path

import pytest

from f1_pipeline.cli import main, team
from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import CommandError
from f1_pipeline.defs.instance import prepare_home


def test_the_team_set_up_refuses_the_sqlite_home_of_make_ui(tmp_path, monkeypatch, capsys):
    home = prepare_home(tmp_path / "home")  # `make ui`'s: runs in SQLite
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["team", "up"]) != 0
    err = capsys.readouterr().err
    assert "keeps Dagster's runs in SQLite" in err
    assert ".dagster-team" in err
    assert not (home / "team").exists()  # nothing was started


def test_env_and_reload_need_a_running_team(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    for action in ("env", "reload"):
        assert main(["team", action]) != 0
        assert "no team set-up runs" in capsys.readouterr().err
    assert main(["team", "status"]) == 1
    assert "no team set-up runs" in capsys.readouterr().out


def _conf(path: Path) -> configparser.RawConfigParser:
    conf = configparser.RawConfigParser()
    conf.read_string(path.read_text().replace("%%", "%"))
    return conf


def test_the_conf_is_private_and_keeps_the_secrets_off_command_lines(tmp_path):
    home = tmp_path / "home"
    cluster = team.team_dir(home) / "postgres"  # as initdb left it
    cluster.mkdir(parents=True)
    (cluster / "password").write_text("pg-secret")
    (cluster / "server.json").write_text(json.dumps({"port": 5999}))
    cli = Cli({"DAGSTER_HOME": str(home), "PATH": os.environ["PATH"]})
    args = argparse.Namespace(port=3999, code_module=team.CODE_MODULE)
    programs = team.programs(cli, args, (15999, 4999), "the-token")
    team.write_conf(team.team_dir(home), team.team_env(cli, "http://127.0.0.1:3999"), programs)

    path = team.team_dir(home) / "supervisord.conf"
    assert path.stat().st_mode & 0o777 == 0o600
    conf = _conf(path)
    assert conf.get("unix_http_server", "chmod") == "0700"
    names = [s.removeprefix("program:") for s in conf.sections() if s.startswith("program:")]
    assert sorted(names) == sorted(team.PROGRAMS)
    priorities = [conf.getint(f"program:{name}", "priority") for name in team.PROGRAMS]
    assert priorities == sorted(priorities)  # started in this order, stopped in reverse
    for name in names:
        section = conf[f"program:{name}"]
        for option in ("autostart", "autorestart", "stopasgroup", "killasgroup"):
            assert section[option] == "true", (name, option)
        assert section["stdout_logfile"].endswith(f"logs/{name}.log")
        assert "the-token" not in section["command"]
        assert "pg-secret" not in section["command"]
    # The secrets are in the environment lines: the token for the engine and the code
    # server (whose runs connect to it), the password for every program.
    assert 'SPARK_CONNECT_AUTHENTICATE_TOKEN="the-token"' in conf["program:spark"]["environment"]
    code_server = conf["program:code-server"]["environment"]
    assert 'F1_SPARK_REMOTE="sc://localhost:15999"' in code_server
    assert "the-token" in code_server
    assert "the-token" not in conf["program:webserver"]["environment"]
    assert 'DAGSTER_PG_PASSWORD="pg-secret"' in conf["supervisord"]["environment"]
    postgres = conf["program:postgres"]
    assert postgres["stopsignal"] == "INT"
    assert "listen_addresses=127.0.0.1 -p 5999" in postgres["command"]
    assert postgres.get("user") == ("postgres" if os.geteuid() == 0 else None)
    assert "spark.connect.grpc.binding.address=127.0.0.1" in conf["program:spark"]["command"]
    assert "port: 4999" in (team.team_dir(home) / "workspace.yaml").read_text()


def test_a_program_supervisord_gives_up_on_is_reported_with_its_log(tmp_path):
    folder = tmp_path / "team"
    (folder / "logs").mkdir(parents=True)
    broken = team._program(["sh", "-c", "echo 'cannot start: 100% broken'; exit 3"], tmp_path)
    team.write_conf(folder, {"DAGSTER_HOME": str(tmp_path)}, {"daemon": broken})
    assert team._ctl(folder, "status").returncode != 0  # not running yet
    conf = folder / "supervisord.conf"
    assert subprocess.run([str(team.BIN / "supervisord"), "-c", str(conf)]).returncode == 0
    try:
        with pytest.raises(CommandError, match="supervisord gave up on daemon") as failed:
            team._wait(folder, "daemon", "daemon", lambda: False)
        assert "cannot start: 100% broken" in str(failed.value)
    finally:
        pid = int((folder / "supervisord.pid").read_text())
        assert team._shutdown(folder)
    assert not Path(f"/proc/{pid}").exists()  # nothing of it is left
    assert team._states(folder)[1] == {}
