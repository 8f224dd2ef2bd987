"""The configuration is the resources: each variable sets a resource field (or, for the
schedules and code links, a definition), defaults are the fields', and a bad value fails the
start in one sentence naming the variable — for every variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dagster import EnvVar

from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.config import ConfigError
from f1_pipeline.defs.constants import (
    ALERTS_KEY,
    CATALOG_KEY,
    FRESHNESS_KEY,
    STEP_RUNNER_KEY,
    STORAGE_KEY,
    UPLOAD_QUEUE_KEY,
)
from f1_pipeline.defs.instance import storage_of

S3 = {"F1_DATA_ROOT": "s3://f1-data/team"}


def test_defaults_are_local_and_embedded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    resources = build_definitions({}).resources
    assert resources[STORAGE_KEY].data_root == str(tmp_path / "data")
    runner = resources[STEP_RUNNER_KEY]
    assert (runner.mode, runner.spark.master, runner.spark.remote) == ("local", "local[*]", None)
    assert runner.hold_max_shrink_percent == 10.0
    assert resources[ALERTS_KEY].webhook_url is None
    assert resources[ALERTS_KEY].ui_url == "http://127.0.0.1:3000"
    assert resources[FRESHNESS_KEY].grace_hours == 36.0
    assert resources[CATALOG_KEY].database is None
    assert UPLOAD_QUEUE_KEY not in resources


def test_values_from_the_environment(tmp_path):
    env = {
        "F1_DATA_ROOT": str(tmp_path / "d"),
        "F1_SPARK_MASTER": "local[2]",
        "F1_LATEST_SEASON": "9999",
        "F1_HOLD_MAX_SHRINK_PERCENT": "2.5",
        "F1_FRESHNESS_GRACE_HOURS": "48",
        "F1_DAGSTER_URL": "http://127.0.0.1:3001",
    }
    resources = build_definitions(env).resources
    assert resources[STORAGE_KEY].data_root == str(tmp_path / "d")
    runner = resources[STEP_RUNNER_KEY]
    assert (runner.spark.master, runner.last_season(), runner.hold_policy().max_shrink_percent) == (
        "local[2]", 9999, 2.5)  # fmt: skip
    assert resources[FRESHNESS_KEY].grace_hours == 48
    assert resources[ALERTS_KEY].ui_url == "http://127.0.0.1:3001"


def test_glue_and_aws_side_settings():
    env = {**S3, "F1_SPARK_MODE": "glue", "F1_GLUE_JOB_NAME": "f1-stats",
           "F1_GLUE_POLL_SECONDS": "2.5", "F1_GLUE_MAX_WAIT_MINUTES": "45",
           "F1_GLUE_DATABASE": "f1_data",
           "F1_SOURCE_QUEUE_URL": "https://sqs.example/q"}  # fmt: skip
    resources = build_definitions(env).resources
    runner = resources[STEP_RUNNER_KEY]
    assert (runner.mode, runner.glue_job_name, runner.glue_poll_seconds) == (
        "glue",
        "f1-stats",
        2.5,
    )
    assert runner.glue_max_wait_minutes == 45
    assert resources[CATALOG_KEY].table_name("results/season_stats") == "f1_data.season_stats"
    assert resources[UPLOAD_QUEUE_KEY].queue_url == "https://sqs.example/q"


def test_the_webhook_is_a_reference_never_a_value():
    secret = "https://hooks.example.invalid/T0/B0/s3cr3t"
    alerts = build_definitions({"F1_ALERT_WEBHOOK_URL": secret}).resources[ALERTS_KEY]
    assert isinstance(alerts.webhook_url, EnvVar)
    assert alerts.webhook_url.env_var_name == "F1_ALERT_WEBHOOK_URL"
    with pytest.raises(ConfigError) as err:
        build_definitions({"F1_ALERT_WEBHOOK_URL": "token-abc123"})
    assert str(err.value) == "F1_ALERT_WEBHOOK_URL: not an http(s) URL"


# Every variable the platform reads, with a value it refuses and what the sentence says.
BAD = [
    ({"F1_DATA_ROOT": "gs://bucket"}, "F1_DATA_ROOT='gs://bucket': storage scheme 'gs' is not"),
    ({"F1_DATA_ROOT": "s3://No_Bucket"}, "F1_DATA_ROOT='s3://No_Bucket': 'No_Bucket' is not a"),
    ({"F1_SPARK_MODE": "emr"}, "F1_SPARK_MODE='emr': Input should be 'local' or 'glue'"),
    ({"F1_SPARK_MASTER": "yarn"}, "F1_SPARK_MASTER='yarn': only local masters"),
    ({"F1_SPARK_REMOTE": "http://x"}, "F1_SPARK_REMOTE='http://x': not a Spark Connect URL"),
    ({"F1_LATEST_SEASON": "2001"}, "F1_LATEST_SEASON='2001': use a year from next year"),
    ({"F1_LATEST_SEASON": "10000"}, "F1_LATEST_SEASON='10000': use a year from next year"),
    ({"F1_HOLD_MAX_SHRINK_PERCENT": "abc"}, "F1_HOLD_MAX_SHRINK_PERCENT='abc': Input should"),
    ({"F1_HOLD_MAX_SHRINK_PERCENT": "101"}, "F1_HOLD_MAX_SHRINK_PERCENT='101': Input should be"),
    ({"F1_FRESHNESS_GRACE_HOURS": "soon"}, "F1_FRESHNESS_GRACE_HOURS='soon': Input should be"),
    ({"F1_GLUE_JOB_NAME": "bad name"}, "F1_GLUE_JOB_NAME='bad name': not a Glue job name"),
    ({"F1_GLUE_POLL_SECONDS": "0"}, "F1_GLUE_POLL_SECONDS='0': Input should be greater than"),
    ({"F1_GLUE_MAX_WAIT_MINUTES": "0"}, "F1_GLUE_MAX_WAIT_MINUTES='0': Input should be greater"),
    ({"F1_SPARK_MODE": "glue"}, "F1_SPARK_MODE=glue needs F1_DATA_ROOT=s3://"),
    ({**S3, "F1_SPARK_MODE": "glue"}, "F1_SPARK_MODE=glue needs F1_GLUE_JOB_NAME"),
    ({"F1_GLUE_DATABASE": "Bad-Name"}, "F1_GLUE_DATABASE='Bad-Name': a Glue database name is"),
    ({"F1_GLUE_DATABASE": "f1_data"}, "F1_GLUE_DATABASE needs F1_DATA_ROOT=s3://"),
    ({**S3, "F1_SOURCE_QUEUE_URL": "queue"}, "F1_SOURCE_QUEUE_URL='queue': not an http(s) URL"),
    ({"F1_SOURCE_QUEUE_URL": "http://q"}, "F1_SOURCE_QUEUE_URL needs F1_DATA_ROOT=s3://"),
    ({"F1_DAGSTER_URL": "localhost:3000"}, "F1_DAGSTER_URL='localhost:3000': not an http(s) URL"),
    ({"F1_RACE_WEEKEND_CRON": "every monday"}, "F1_RACE_WEEKEND_CRON='every monday' is not a "
     "valid cron string"),
    ({"F1_FRESHNESS_CRON": "61 * * * *"}, "F1_FRESHNESS_CRON='61 * * * *' is not a valid cron"),
    ({"F1_AGREEMENT_CRON": "* *"}, "F1_AGREEMENT_CRON='* *' is not a valid cron string"),
    ({"F1_CODE_REPOSITORY_URL": "git@host:x"}, "F1_CODE_REPOSITORY_URL='git@host:x': String"),
]  # fmt: skip


@pytest.mark.parametrize(("env", "message"), BAD)
def test_each_bad_value_fails_in_one_sentence_naming_its_variable(env, message):
    with pytest.raises(ConfigError) as err:
        build_definitions(env)
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_the_instance_storage_variables():
    with pytest.raises(ConfigError, match="F1_DAGSTER_STORAGE=postgres needs DAGSTER_PG_HOST"):
        storage_of({"F1_DAGSTER_STORAGE": "postgres"})
    with pytest.raises(ConfigError, match=re.escape("F1_DAGSTER_STORAGE='mysql': use sqlite")):
        storage_of({"F1_DAGSTER_STORAGE": "mysql"})


def test_the_command_line_says_it_and_exits_2(monkeypatch, capsys, tmp_path: Path):
    from f1_pipeline.cli import main

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    monkeypatch.setenv("F1_DATA_ROOT", "ftp://nowhere")
    assert main(["run"]) == 2
    assert "configuration error: F1_DATA_ROOT='ftp://nowhere'" in capsys.readouterr().err


def test_the_configuration_page_names_every_variable_with_its_default():
    """docs/configuration.md is generated by nobody: this keeps it true."""
    from f1_pipeline.defs.resources import build_resources
    from f1_pipeline_tests.conftest import REPO

    page = (REPO / "docs" / "configuration.md").read_text()
    rows = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (cells[1].strip("`"), cells[2])
    env = {**S3, "F1_SOURCE_QUEUE_URL": "https://q"}
    resources = build_resources(env)
    seen = set()
    for key, resource in resources.items():
        for owner, prefix in ((resource, key), *(
            (getattr(resource, n), f"{key}.{n}") for n in ("spark",) if hasattr(resource, n)
        )):  # fmt: skip
            for name, field in type(owner).model_fields.items():
                extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
                if not extra.get("env"):
                    continue
                var = extra["env"]
                seen.add(var)
                assert var in rows, f"{var} is not on docs/configuration.md"
                assert rows[var][0] == f"{prefix}.{name}", var
                if field.default not in (None, "data", ".dagster"):
                    assert rows[var][1].startswith(f"`{field.default}`"), (var, field.default)
    assert seen >= {"F1_DATA_ROOT", "F1_ALERT_WEBHOOK_URL", "F1_FRESHNESS_GRACE_HOURS"}
    from f1_pipeline.defs.schedules import SCHEDULES

    for _, var, default in SCHEDULES:
        assert f"| `{var}` | `{default}` |" in page, var
