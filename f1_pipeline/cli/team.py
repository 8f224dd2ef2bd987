"""``f1-pipeline team up|down|status|reload|env``: the deployment a Dagster team runs, on one
machine. Dagster's storage in PostgreSQL (a local server of the home's own, or the one named
by DAGSTER_PG_*), the warm Spark engine, the code in a gRPC code server of its own
(`dagster code-server start`), and the webserver and the daemon on a generated
``grpc_server`` workspace. Runs are launched by the code server, beside the warm engine; a
code change is picked up by reloading the code location (`team reload`, or Reload in the UI),
without restarting the webserver or the daemon.

The processes are supervisord's programs: it starts them in order, restarts one that dies
and stops each with its process group, in the reverse order. Ours are the set-up before them
(the cluster, the database, the instance) and the readiness checks. Its conf,
``<home>/team/supervisord.conf``, holds the PostgreSQL password and the Spark Connect token in
``environment=`` lines (never on a command line, which every local user can read): it is 0600
from creation on, and supervisorctl's socket is 0700.
"""

from __future__ import annotations

import argparse
import configparser
import io
import json
import os
import secrets
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.postgres import Cluster
from f1_pipeline.cli.spark import warm_up
from f1_pipeline.core.processes import free_port, write_private

if TYPE_CHECKING:
    from f1_pipeline.cli.context import Cli

LOCATION = "f1_pipeline"  # the code location's name everywhere (state and history key)
CODE_MODULE = "f1_pipeline.definitions"
STARTUP_SECONDS = 180.0
STOP_SECONDS = 30  # each program's, before supervisord kills its process group
# The start order (supervisord stops them in reverse: nothing launches runs once the daemon
# and the webserver are gone).
PROGRAMS = ("postgres", "spark", "code-server", "webserver", "daemon")
# Every program: restarted whenever it ends (given up on when it cannot stay up for
# `startsecs`), stopped with its whole process group (TERM, KILL after STOP_SECONDS), its
# output in logs/<name>.log.
PROGRAM = {"autostart": "true", "autorestart": "true", "startsecs": 10,
           "stopasgroup": "true", "killasgroup": "true", "stopwaitsecs": STOP_SECONDS,
           "redirect_stderr": "true"}  # fmt: skip
# The settings `team env` repeats for the CLI, as the team's processes got them at `up`.
SHARED_SETTINGS = ("F1_DATA_ROOT", "F1_SPARK_MODE", "F1_GLUE_JOB_NAME", "AWS_ENDPOINT_URL",
                   "AWS_REGION", "F1_SOURCE_QUEUE_URL")  # fmt: skip
BIN = Path(sys.executable).parent  # supervisord's, supervisorctl's and Dagster's commands
CONNECT_CLIENT_ENV = ("SPARK_REMOTE", "SPARK_LOCAL_REMOTE", "SPARK_CONNECT_MODE_ENABLED")


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    team = commands.add_parser(
        "team",
        parents=parents,
        help="the team set-up on this machine, under supervisord: PostgreSQL, warm engine, "
        "code server, webserver, daemon",
    )
    actions = team.add_subparsers(dest="team_command", required=True)
    up = actions.add_parser("up", help="start everything (refused while it runs)")
    up.add_argument("--port", type=int, default=3000, help="the webserver's port on 127.0.0.1")
    up.add_argument("--code-module", default=CODE_MODULE, help="the Definitions module")
    actions.add_parser("down", help="stop everything `team up` started")
    actions.add_parser("status", help="supervisord's programs (exit 1 unless all run)")
    actions.add_parser("reload", help="reload the code location: a code change, live")
    actions.add_parser("env", help="shell exports for using the team's instance from the CLI")


def team_dir(home: Path) -> Path:
    return home / "team"


def command(cli: Cli, args: argparse.Namespace) -> int:
    actions = {"up": up, "down": down, "status": status, "reload": reload, "env": env}
    return actions[args.team_command](cli, args)


def _cluster(cli: Cli) -> Cluster | None:
    """The home's own PostgreSQL, or None when DAGSTER_PG_* name a server."""
    from f1_pipeline.defs.instance import storage_of

    named = storage_of(cli.env) == "postgres"
    return None if named else Cluster(team_dir(cli.home) / "postgres")


def team_env(cli: Cli, url: str | None = None) -> dict[str, str]:
    """What every program runs with, beside the environment the CLI started with."""
    from f1_pipeline.defs.instance import DAGSTER_ENV

    local = _cluster(cli)
    return {"DAGSTER_HOME": str(cli.home), "F1_DAGSTER_STORAGE": "postgres",
            "DAGSTER_DISABLE_TELEMETRY": "1", **DAGSTER_ENV, **(local.env() if local else {}),
            **({"F1_DAGSTER_URL": url} if url else {})}  # fmt: skip


def _environment(env: Mapping[str, str]) -> str:
    # Each value in double quotes (ours: paths, ports, a URL, URL-safe secrets).
    return ",".join(f'{name}="{value}"' for name, value in env.items())


def _program(argv: list[str], cwd: Path, env: dict | None = None, /, **more: str) -> dict:
    """A program's own options; ``env``: its variables beside every program's."""
    return {"command": shlex.join(argv), "directory": cwd, "environment": _environment(env or {}),
            **more}  # fmt: skip


def write_conf(team: Path, env: Mapping[str, str], programs: Mapping[str, dict]) -> None:
    """supervisord's conf, 0600 from creation on; ``env``: every program's variables."""
    sock, conf, text = team / "supervisor.sock", configparser.RawConfigParser(), io.StringIO()
    conf.read_dict({
        "supervisord": {"logfile": team / "supervisord.log", "pidfile": team / "supervisord.pid",
                        "childlogdir": team / "logs", "environment": _environment(env)},
        "unix_http_server": {"file": sock, "chmod": "0700"},
        "supervisorctl": {"serverurl": f"unix://{sock}"},
        "rpcinterface:supervisor": {
            "supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"},
        **{f"program:{name}": {**PROGRAM, "priority": 10 + 10 * PROGRAMS.index(name),
                               "stdout_logfile": team / "logs" / f"{name}.log", **options}
           for name, options in programs.items()},
    })  # fmt: skip
    conf.write(text)
    # supervisord expands %(name)s in its values: a literal % is written %%.
    write_private(team / "supervisord.conf", text.getvalue().replace("%", "%%"))


def _ctl(team: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(BIN / "supervisorctl"), "-c", str(team / "supervisord.conf"), *args]
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)


def _states(team: Path) -> tuple[str, dict[str, str]]:
    """supervisorctl's status and each program's state (none: supervisord does not run)."""
    out = _ctl(team, "status").stdout
    rows = [line.split() for line in out.splitlines()]
    return out.rstrip(), {row[0]: row[1] for row in rows if len(row) > 1 and row[0] in PROGRAMS}


def _failed(team: Path, program: str | None, reason: str) -> CommandError:
    log = team / "logs" / f"{program}.log" if program else team / "supervisord.log"
    tail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
    return CommandError(f"{reason} (log {log}):\n{tail}")


def _wait(team: Path, what: str, program: str | None, ready: Callable[[], object]) -> None:
    deadline, look = time.monotonic() + STARTUP_SECONDS, 0.0
    while not ready():
        if time.monotonic() > look:  # supervisord's view every few seconds (a process each)
            look = time.monotonic() + 3
            fatal = [name for name, state in _states(team)[1].items() if state == "FATAL"]
            if fatal:
                raise _failed(team, fatal[0], f"{what}: supervisord gave up on {fatal[0]}")
        if time.monotonic() > deadline:
            raise _failed(team, program, f"{what}: not ready after {STARTUP_SECONDS:.0f} s")
        time.sleep(0.5)


def programs(cli: Cli, args: argparse.Namespace, ports: tuple[int, int], token: str) -> dict:
    """supervisord's programs (the home's cluster initialised): the home's PostgreSQL, the
    warm engine and Dagster's processes (the code server's runs on that engine)."""
    import pyspark

    from f1_pipeline.core.spark import SERVER_CLASS, TOKEN_ENV

    (spark_port, code_port), spark = map(str, ports), Path(pyspark.__file__).parent
    cwd, workspace = Path.cwd(), team_dir(cli.home) / "workspace.yaml"
    remote = {"F1_SPARK_REMOTE": f"sc://localhost:{spark_port}", TOKEN_ENV: token}
    workspace.write_text(
        "# Generated by `f1-pipeline team up`: the code location served by its code server.\n"
        "load_from:\n  - grpc_server:\n      host: 127.0.0.1\n"
        f"      port: {code_port}\n      location_name: {LOCATION}\n"
    )
    spark_submit = [str(spark / "bin" / "spark-submit"), "--class", SERVER_CLASS,
                    "--name", "f1-pipeline Spark Connect"]  # fmt: skip
    spark_submit += cli.spark_engine().server_args(int(spark_port))
    code_server = [str(BIN / "dagster"), "code-server", "start", "-h", "127.0.0.1", "-p",
                   code_port, "-m", args.code_module, "--location-name", LOCATION]  # fmt: skip
    ui = [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(args.port)]
    spark_env = {"SPARK_HOME": str(spark), "PYSPARK_PYTHON": sys.executable, TOKEN_ENV: token}
    every = {
        "spark": _program(spark_submit, cwd, spark_env),
        "code-server": _program(code_server, cwd, remote),
        "webserver": _program([*ui, "-w", str(workspace)], cwd),
        "daemon": _program([str(BIN / "dagster-daemon"), "run", "-w", str(workspace)], cwd),
    }
    if (cluster := _cluster(cli)) is not None:  # as its owner; INT: PostgreSQL's fast shutdown
        owner = {"user": cluster.owner} if cluster.owner else {}
        every["postgres"] = _program(cluster.command(), cluster.root, stopsignal="INT", **owner)
    return every


def up(cli: Cli, args: argparse.Namespace) -> int:
    from dagster import DagsterInstance

    from f1_pipeline.cli import webserver
    from f1_pipeline.core.processes import port_open, process_start
    from f1_pipeline.core.spark import WarmEngine
    from f1_pipeline.defs.instance import generated_storage, prepare_home

    home, team = cli.home, team_dir(cli.home)
    if _states(team)[1]:
        raise CommandError(f"the team set-up of {home} already runs: `f1-pipeline team status`")
    url = f"http://127.0.0.1:{args.port}"
    if webserver.webserver_up(url):
        raise CommandError(f"something already serves {url} (`make ui`?): stop it, or --port")
    config = home / "dagster.yaml"
    if config.exists() and generated_storage(config.read_text()) == "sqlite":
        raise CommandError(
            f"{config} keeps Dagster's runs in SQLite (the `make ui` home): the team set-up "
            "needs a home of its own (`make team` uses .dagster-team) or an operator's "
            "dagster.yaml on PostgreSQL"
        )
    (team / "logs").mkdir(parents=True, exist_ok=True)
    if (cluster := _cluster(cli)) is not None:
        cluster.init()
    spark_port, token = free_port(), secrets.token_urlsafe(24)
    every = programs(cli, args, (spark_port, free_port()), token)
    spark_url = f"sc://localhost:{spark_port}"
    env = team_env(cli, url)
    # The servers first; Dagster's programs once their instance is ready.
    write_conf(team, env, {k: v for k, v in every.items() if k in ("postgres", "spark")})
    # Its own environment, which its programs inherit, is the CLI's without a Connect client's
    # variables (pyspark drops them too as it starts a server: spark-submit would be a client).
    base = {k: v for k, v in cli.env.items() if k not in CONNECT_CLIENT_ENV}
    argv = [str(BIN / "supervisord"), "-c", str(team / "supervisord.conf")]
    started = subprocess.run(argv, env=base, capture_output=True, text=True, check=False)
    if started.returncode != 0:
        raise CommandError(f"supervisord did not start: {started.stderr or started.stdout}")
    state = team / "team.json"
    try:
        _wait(team, "supervisord", None, lambda: _ctl(team, "pid").returncode == 0)
        if cluster is not None:
            _wait(team, "PostgreSQL", "postgres", cluster.ready)
        os.environ.update(env)  # Dagster reads DAGSTER_PG_* from this process's environment
        prepare_home(home, "postgres")  # the schema, before any Dagster process starts
        write_conf(team, env, every)  # now the Dagster programs: supervisord starts them
        if (updated := _ctl(team, "update")).returncode != 0:
            raise _failed(team, None, f"supervisorctl update: {updated.stdout.strip()}")
        shared = {k: cli.env[k] for k in SHARED_SETTINGS if cli.env.get(k)}
        state.write_text(json.dumps({"url": url, "settings": shared}))
        _wait(team, "the Spark engine", "spark", lambda: port_open(spark_port))
        # The engine as the CLI's own runs find it (`team env`), warmed up by a client while
        # Dagster's processes start.
        pid, log = int(_ctl(team, "pid", "spark").stdout), str(team / "logs" / "spark.log")
        cli.spark_engine().record(WarmEngine(pid, process_start(pid), spark_port, token, log))
        warm_up(spark_url, token, base, STARTUP_SECONDS)
        _wait(team, "webserver", "webserver", lambda: webserver.webserver_up(url))
        _wait(team, "code location", "code-server", lambda: webserver.code_location(url).loaded)
        with DagsterInstance.from_config(str(home)) as instance:
            _wait(team, "daemon", "daemon", lambda: webserver.daemon_serves(instance))
        _wait(team, "supervisord", None, lambda: set(_states(team)[1].values()) == {"RUNNING"})
    except BaseException:
        _shutdown(team)
        state.unlink(missing_ok=True)
        raise
    pg = "{DAGSTER_PG_HOST}:{DAGSTER_PG_PORT}".format_map({**cli.env, **env})
    pg += f" (this home's, {cluster.root})" if cluster else ""
    print(f"team set-up of {home} is up, under supervisord:")
    print(f"  Dagster UI    {url}")
    print(f"  code server   location {LOCATION}, module {args.code_module}")
    print(f"  Spark engine  {spark_url}")
    print(f"  storage       PostgreSQL {pg}")
    print(f"  logs          {team / 'logs'}")
    print(f"  supervisord   {BIN / 'supervisorctl'} -c {team / 'supervisord.conf'} status")
    print('the CLI on this instance: eval "$(f1-pipeline team env)"; stop: f1-pipeline team down')
    return 0


def _shutdown(team: Path) -> bool:
    """supervisord stops every program (in the reverse order), then itself; True once its
    process is gone, False when none answered."""
    pid = _ctl(team, "pid").stdout.strip()
    if not pid.isdigit() or _ctl(team, "shutdown").returncode != 0:
        return False
    deadline = time.monotonic() + len(PROGRAMS) * (STOP_SECONDS + 10)
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            raise _failed(team, None, f"supervisord (pid {pid}) still runs")
        time.sleep(0.5)
    return True


def down(cli: Cli, args: argparse.Namespace) -> int:
    team = team_dir(cli.home)
    names = ", ".join(name for name in reversed(PROGRAMS) if name in _states(team)[1])
    (team / "team.json").unlink(missing_ok=True)
    print(f"stopped {names}" if _shutdown(team) else f"no team set-up runs for {cli.home}")
    return 0


def status(cli: Cli, args: argparse.Namespace) -> int:
    out, states = _states(team_dir(cli.home))
    print(out if states else f"no team set-up runs for {cli.home}")
    return 0 if states and set(states.values()) == {"RUNNING"} else 1


def _running(cli: Cli) -> dict:
    try:
        return json.loads((team_dir(cli.home) / "team.json").read_text())
    except (OSError, ValueError):
        raise CommandError(f"no team set-up runs for {cli.home}: `make team`") from None


def reload(cli: Cli, args: argparse.Namespace) -> int:
    from f1_pipeline.cli import webserver

    location = webserver.reload_code_location(str(_running(cli)["url"]))
    if not location.loaded:
        raise CommandError(f"the code location did not load: {location.error}")
    print(f"reloaded code location {LOCATION} (version {location.version})")
    return 0


def env(cli: Cli, args: argparse.Namespace) -> int:
    running = _running(cli)
    exports = {**running.get("settings", {}), **team_env(cli, str(running["url"]))}
    exports.pop("DAGSTER_DISABLE_TELEMETRY")
    for name, value in exports.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0
