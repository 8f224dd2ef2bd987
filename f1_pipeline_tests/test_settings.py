from __future__ import annotations

import re
from pathlib import Path

import pytest

from f1_pipeline.settings import Settings, SettingsError


def test_defaults_are_local_and_embedded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})
    assert settings.data_root == tmp_path / "data"
    assert settings.dagster_home == tmp_path / ".dagster"
    assert settings.spark_master == "local[*]"


def test_overrides(tmp_path):
    settings = Settings.from_env(
        {
            "F1_DATA_ROOT": str(tmp_path / "d"),
            "DAGSTER_HOME": str(tmp_path / "h"),
            "F1_SPARK_MASTER": "local[2]",
        }
    )
    assert (settings.data_root, settings.dagster_home) == (tmp_path / "d", tmp_path / "h")
    assert settings.spark_master == "local[2]"
    assert Settings.from_env({"F1_LATEST_SEASON": "9999"}).last_plausible_season == 9999
    assert Settings.from_env({}).latest_season is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"F1_DATA_ROOT": " "}, "F1_DATA_ROOT is set but empty"),
        ({"F1_DATA_ROOT": "gs://bucket"}, "storage scheme 'gs' is not supported"),
        ({"F1_SPARK_MASTER": "yarn"}, "only local masters"),
        ({"F1_LATEST_SEASON": "2001"}, "F1_LATEST_SEASON='2001': use a year from next year"),
        ({"F1_LATEST_SEASON": "10000"}, "F1_LATEST_SEASON='10000'"),
    ],
)
def test_bad_values_are_refused_clearly(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_data_root_must_be_a_directory(tmp_path):
    file = tmp_path / "f"
    file.write_text("x")
    with pytest.raises(SettingsError, match="not a directory"):
        Settings.from_env({"F1_DATA_ROOT": str(file)})
    assert isinstance(Settings.from_env({"F1_DATA_ROOT": str(tmp_path)}).data_root, Path)


def test_operations_settings():
    settings = Settings.from_env(
        {
            "F1_ALERT_WEBHOOK_URL": "https://hooks.example.invalid/T0/B0/secret",
            "F1_DAGSTER_URL": "http://127.0.0.1:3001/",
            "AWS_MAX_ATTEMPTS": "2",
        }
    )
    assert settings.alert_webhook_url == "https://hooks.example.invalid/T0/B0/secret"
    assert settings.dagster_url == "http://127.0.0.1:3001"
    assert settings.aws.max_attempts == 2
    defaults = Settings.from_env({})
    assert (defaults.alert_webhook_url, defaults.dagster_url) == (None, "http://127.0.0.1:3000")


def test_a_bad_webhook_is_refused_without_echoing_it():
    with pytest.raises(SettingsError) as err:
        Settings.from_env({"F1_ALERT_WEBHOOK_URL": "token-abc123"})
    assert "token-abc123" not in str(err.value)
    with pytest.raises(SettingsError, match="AWS_MAX_ATTEMPTS='0' is not a positive integer"):
        Settings.from_env({"AWS_MAX_ATTEMPTS": "0"})


def test_glue_mode_settings():
    env = {"F1_DATA_ROOT": "s3://f1-data/team", "F1_SPARK_MODE": "glue",
           "F1_GLUE_JOB_NAME": "f1-stats", "F1_GLUE_POLL_SECONDS": "2.5",
           "F1_GLUE_MAX_WAIT_MINUTES": "45"}  # fmt: skip
    settings = Settings.from_env(env)
    assert settings.spark_mode == "glue"
    assert settings.glue is not None
    assert (settings.glue.job_name, settings.glue.poll_seconds) == ("f1-stats", 2.5)
    assert settings.glue.max_wait_minutes == 45
    local = Settings.from_env({"F1_DATA_ROOT": "s3://f1-data", "F1_GLUE_JOB_NAME": "f1-stats"})
    assert (local.spark_mode, local.glue_job_name) == ("local", "f1-stats")  # for glue deploy


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"F1_SPARK_MODE": "emr"}, "F1_SPARK_MODE='emr': use one of local, glue"),
        ({"F1_SPARK_MODE": "glue"}, "needs F1_GLUE_JOB_NAME"),
        ({"F1_GLUE_JOB_NAME": "bad name"}, "F1_GLUE_JOB_NAME='bad name' is not a Glue job name"),
        ({"F1_SPARK_MODE": "glue", "F1_GLUE_JOB_NAME": "j", "F1_DATA_ROOT": "/tmp/x"},
         "F1_SPARK_MODE=glue needs F1_DATA_ROOT=s3://"),
        ({"F1_SPARK_MODE": "glue", "F1_GLUE_JOB_NAME": "j", "F1_DATA_ROOT": "s3://f1-data",
          "F1_GLUE_POLL_SECONDS": "0"}, "F1_GLUE_POLL_SECONDS='0'"),
    ],
)  # fmt: skip
def test_bad_glue_settings_are_refused(env, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env(env)
