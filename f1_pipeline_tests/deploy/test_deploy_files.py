"""deploy/: the container files, checked against the code (Docker cannot build or run here):
the compose file as docker-compose reads it, health checks and restart policies, the
webserver on the host's loopback only, the code location's name and port, the environment
variables the instance template and the settings read, the image installing the same lock,
and the instance file equal to the project's template."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from f1_pipeline.cli.webserver import LOCATION
from f1_pipeline.defs.instance import DAGSTER_ENV, POSTGRES_ENV, TEMPLATE, render_template
from f1_pipeline_tests.conftest import REPO

DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())


def _compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _env_instructions() -> dict[str, str]:
    found = {}
    for instruction, args in _dockerfile():
        if instruction == "ENV":
            for pair in shlex.split(args):
                name, _, value = pair.partition("=")
                found[name] = value
    return found


def _code_server_args() -> list[str]:
    script = (DEPLOY / "code-server.sh").read_text()
    [line] = [
        " ".join(chunk.split("\\\n"))
        for chunk in re.findall(r"^exec dagster code-server start.*?(?<!\\)$", script, re.M | re.S)
    ]
    return shlex.split(line.replace("\\\n", " "))


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_reads_the_file_and_requires_the_password():
    env = {**os.environ, "DAGSTER_PG_PASSWORD": "from-the-shell", "F1_DATA_ROOT": "s3://b"}
    done = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)
    assert set(resolved["services"]) == {"postgres", "user_code", "webserver", "daemon"}
    env.pop("DAGSTER_PG_PASSWORD")
    refused = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config"], capture_output=True, text=True, env=env
    )
    assert refused.returncode != 0
    assert "DAGSTER_PG_PASSWORD" in refused.stderr


def test_every_service_has_a_health_check_and_restarts():
    services = _compose()["services"]
    for name, service in services.items():
        assert service["restart"] in ("always", "unless-stopped"), name
        assert service["healthcheck"]["test"], name
    assert services["daemon"]["healthcheck"]["test"] == ["CMD", "dagster-daemon", "liveness-check"]
    port = _code_server_args()[_code_server_args().index("-p") + 1]
    assert services["user_code"]["healthcheck"]["test"][-2:] == ["-p", port]


def test_only_the_webserver_is_published_and_only_on_the_hosts_loopback():
    services = _compose()["services"]
    published = {name: s.get("ports", []) for name, s in services.items() if s.get("ports")}
    assert list(published) == ["webserver"]
    assert all(str(p).startswith("127.0.0.1:") for p in published["webserver"])


def test_the_workspace_names_the_code_server_and_the_projects_location():
    [entry] = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())["load_from"]
    grpc = entry["grpc_server"]
    args = _code_server_args()
    assert grpc["host"] in _compose()["services"]
    assert str(grpc["port"]) == args[args.index("-p") + 1]
    [local] = yaml.safe_load((REPO / "workspace.yaml").read_text())["load_from"]
    names = {
        grpc["location_name"],
        args[args.index("--location-name") + 1],
        PYPROJECT["tool"]["dg"]["project"]["code_location_name"],
        PYPROJECT["tool"]["dagster"]["code_location_name"],
        local["python_module"]["location_name"],
    }
    assert names == {LOCATION}
    module = PYPROJECT["tool"]["dg"]["project"]["code_location_target_module"]
    assert args[args.index("-m") + 1] == module


def test_the_services_get_the_variables_the_instance_and_resources_read():
    compose = _compose()
    template_env = set(re.findall(r"env: (DAGSTER_PG_\w+)", TEMPLATE.with_name(
        "storage.postgres.yaml").read_text()))  # fmt: skip
    assert template_env == set(POSTGRES_ENV)
    settings_source = "\n".join(p.read_text() for p in (REPO / "f1_pipeline").rglob("*.py"))
    image_env = _env_instructions()
    for name in ("user_code", "webserver", "daemon"):
        env = compose["services"][name]["environment"]
        assert set(POSTGRES_ENV) <= set(env), name
        assert env["F1_DAGSTER_STORAGE"] == "postgres"
        assert {k: env[k] for k in DAGSTER_ENV} == DAGSTER_ENV, name
        assert env["DAGSTER_HOME"] == image_env["DAGSTER_HOME"]
        for variable in env:
            if variable.startswith("F1_"):
                assert f'"{variable}"' in settings_source, f"{variable} is read by nothing"
    # The password comes from the operator's shell, never from the file.
    assert "${DAGSTER_PG_PASSWORD:?" in compose["services"]["user_code"]["environment"][
        "DAGSTER_PG_PASSWORD"]  # fmt: skip
    assert {k: image_env[k] for k in DAGSTER_ENV} == DAGSTER_ENV


def test_the_image_installs_the_lock_with_java_as_a_non_root_user():
    steps = _dockerfile()
    froms = [args for instruction, args in steps if instruction == "FROM"]
    lock_python = re.search(r"--python-version (\S+)", (REPO / "Makefile").read_text()).group(1)
    assert froms == [f"python:{lock_python}-slim-bookworm"]
    runs = " ".join(args for instruction, args in steps if instruction == "RUN")
    assert "openjdk-17-jre-headless" in runs
    assert "pip install -r /tmp/run.lock" in runs
    assert "pip install --no-deps" in runs  # the project itself: nothing beyond the lock
    copies = [shlex.split(args) for instruction, args in steps if instruction == "COPY"]
    assert ["requirements/run.lock", "/tmp/run.lock"] in copies
    for *sources, _ in copies:
        for source in sources:
            assert (REPO / source).exists(), source
    [user] = [args for instruction, args in steps if instruction == "USER"]
    assert user not in ("root", "0")
    assert [args for i, args in steps if i == "CMD"] == ['["f1-code-server"]']


def test_the_instance_file_is_the_projects_template():
    home = Path(_env_instructions()["DAGSTER_HOME"])
    assert (DEPLOY / "dagster.yaml").read_text() == render_template(home, "postgres"), (
        "deploy/dagster.yaml is out of date: regenerate it with "
        "render_template(Path('/opt/dagster/dagster_home'), 'postgres')"
    )


def test_the_runs_logs_are_where_the_webserver_reads_them():
    """Runs execute in user_code; the UI's log tab is the webserver's: both mount one volume
    at the home's storage/, where Dagster's default LocalComputeLogManager writes."""
    compose, home = _compose(), _env_instructions()["DAGSTER_HOME"]
    assert "compute_logs:" not in (DEPLOY / "dagster.yaml").read_text()  # Dagster's default

    def mounts(service: str) -> set[str]:
        return {v for v in compose["services"][service].get("volumes", []) if ":" in v}

    shared = f"compute_logs:{home}/storage"
    assert shared in mounts("user_code")
    assert shared in mounts("webserver")
    assert "compute_logs" in compose["volumes"]


def test_the_sensors_reach_the_webserver_and_botocore_its_region():
    """The tick watcher is a sensor, evaluated in user_code: it reads ticks from the
    webserver's GraphQL at F1_DAGSTER_URL. botocore reads AWS_DEFAULT_REGION."""
    env = _compose()["services"]["user_code"]["environment"]
    assert env["F1_DAGSTER_URL"] == "http://webserver:3000"
    assert env["AWS_DEFAULT_REGION"] == env["AWS_REGION"]
