"""The one place the environment is read and validated.

Everything else receives a :class:`Settings` (or the resources built from it);
nothing else in the package reads ``os.environ``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from f1_pipeline.core.holds import HoldPolicy
from f1_pipeline.core.storage.root import S3Root
from f1_pipeline.core.transforms.schema import latest_plausible_season

__all__ = ["S3Root", "Settings", "SettingsError", "parse_data_root"]


DEFAULT_DATA_ROOT = "data"
DEFAULT_SPARK_MASTER = "local[*]"
DEFAULT_DAGSTER_HOME = ".dagster"
# Monday 06:00 UTC: after every race weekend, Sunday races in the Americas included.
DEFAULT_RACE_WEEKEND_CRON = "0 6 * * 1"
# The data's freshness is checked every six hours (a provider sending nothing triggers no
# ingest), and a race is overdue 36 h after its start with no results.
DEFAULT_FRESHNESS_CRON = "15 */6 * * *"
DEFAULT_AGREEMENT_CRON = "30 5 * * *"  # daily, 05:30 UTC
DEFAULT_FRESHNESS_GRACE_HOURS = 36.0
DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"
# A secret (webhook URLs embed tokens): the resource references it by name, never by value.
ALERT_WEBHOOK_ENV = "F1_ALERT_WEBHOOK_URL"


class SettingsError(ValueError):
    """An environment variable holds a value the pipeline cannot use."""


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class AwsSettings:
    """Where S3 is. Credentials are never read here: boto3's standard chain finds them."""

    endpoint_url: str | None = None
    region: str | None = None
    max_attempts: int = 5  # botocore's own retries, before a step-level retry


@dataclass(frozen=True)
class GlueSettings:
    """Glue mode: the cleaned and stats steps run as runs of this Glue job."""

    job_name: str
    poll_seconds: float = 5.0  # how often the job run's state is read
    max_wait_minutes: int = 120  # past this the job run is stopped and the step fails


SPARK_MODES = ("local", "glue")


@dataclass(frozen=True)
class Settings:
    """Validated runtime configuration.

    ``data_root`` holds ``source-data/``, ``cleaned/`` and ``results/``: an
    absolute local directory (the embedded default) or an S3 location.
    ``dagster_home`` is the persistent Dagster instance the CLI records its runs
    in (the one ``make ui`` shows).
    """

    data_root: Path | S3Root
    aws: AwsSettings = field(default_factory=AwsSettings)
    dagster_home: Path = field(default_factory=lambda: Path(DEFAULT_DAGSTER_HOME).resolve())
    spark_master: str = DEFAULT_SPARK_MASTER
    # A Spark Connect server for local mode; None: the one `f1-pipeline spark start` runs
    # for this Dagster home, if any, else an embedded session.
    spark_remote: str | None = None
    alert_webhook_url: str | None = None
    race_weekend_cron: str = DEFAULT_RACE_WEEKEND_CRON
    dagster_url: str = DEFAULT_DAGSTER_URL
    glue: GlueSettings | None = None  # None: Spark runs locally (the embedded default)
    glue_job_name: str | None = None  # F1_GLUE_JOB_NAME, in any mode (for `glue deploy`)
    # The latest season an upload may hold; None: next year. Synthetic data (bench/'s
    # scaled copies, thousands of seasons) raises it; real data never needs to.
    latest_season: int | None = None
    # Where the catalog's code references link (F1_CODE_REPOSITORY_URL, e.g. the GitHub
    # repository); None: references to the local files.
    code_repository_url: str | None = None
    code_branch: str = "main"
    # The SQS queue receiving the bucket's upload events (the stack's UploadsQueueUrl): uploads
    # are then pushed to the sensor; None: the sensor lists source-data/.
    source_queue_url: str | None = None
    # The Glue Data Catalog database the published tables are registered in
    # (F1_GLUE_DATABASE, the stack's GlueDatabaseName); None: no catalog.
    glue_database: str | None = None
    # Where Dagster keeps runs and events (F1_DAGSTER_STORAGE): sqlite under the home, or
    # postgres (the server named by DAGSTER_PG_* variables).
    dagster_storage: str = "sqlite"
    # Where embedded Spark JVMs keep their class archive (F1_SPARK_CLASSES; ~200 MB, see
    # f1_pipeline.core.spark.ClassArchive); None: `spark/` in the Dagster home.
    spark_classes: Path | None = None
    # When an upload is held rather than published (F1_HOLD_MAX_SHRINK_PERCENT; a vanished
    # season and a race losing its winner are always held).
    hold: HoldPolicy = field(default_factory=HoldPolicy)
    # The freshness check: how long after a race's start its results may be missing
    # (F1_FRESHNESS_GRACE_HOURS), and when the check runs on its own (F1_FRESHNESS_CRON).
    freshness_grace_hours: float = DEFAULT_FRESHNESS_GRACE_HOURS
    freshness_cron: str = DEFAULT_FRESHNESS_CRON
    # When the published-files check runs on its own (F1_AGREEMENT_CRON; it also runs after
    # every publish).
    agreement_cron: str = DEFAULT_AGREEMENT_CRON

    def __post_init__(self) -> None:
        if self.source_queue_url and not isinstance(self.data_root, S3Root):
            raise SettingsError(
                "F1_SOURCE_QUEUE_URL needs F1_DATA_ROOT=s3://bucket[/prefix]: the queue "
                f"carries that bucket's upload events, not {self.data_root}'s"
            )
        if self.glue_database and not isinstance(self.data_root, S3Root):
            raise SettingsError(
                "F1_GLUE_DATABASE needs F1_DATA_ROOT=s3://bucket[/prefix]: catalog tables "
                f"point at S3 locations, not at {self.data_root}"
            )
        if self.glue is not None and not isinstance(self.data_root, S3Root):
            raise SettingsError(
                "F1_SPARK_MODE=glue needs F1_DATA_ROOT=s3://bucket[/prefix]: a Glue job cannot "
                f"read the local directory {self.data_root}"
            )

    @property
    def spark_mode(self) -> str:
        return "local" if self.glue is None else "glue"

    @property
    def spark_class_folder(self) -> Path:
        return self.spark_classes or self.dagster_home / "spark"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            data_root=parse_data_root(env.get("F1_DATA_ROOT", DEFAULT_DATA_ROOT)),
            aws=AwsSettings(
                endpoint_url=_parse_endpoint(env.get("AWS_ENDPOINT_URL") or None),
                region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
                max_attempts=_parse_positive_int(
                    "AWS_MAX_ATTEMPTS", env.get("AWS_MAX_ATTEMPTS"), 5
                ),
            ),
            dagster_home=_parse_dagster_home(env.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME),
            spark_master=_parse_spark_master(env.get("F1_SPARK_MASTER", DEFAULT_SPARK_MASTER)),
            spark_remote=_parse_remote(env.get("F1_SPARK_REMOTE") or None),
            spark_classes=_parse_dagster_home(env["F1_SPARK_CLASSES"], "F1_SPARK_CLASSES")
            if env.get("F1_SPARK_CLASSES")
            else None,
            alert_webhook_url=_parse_webhook(env.get(ALERT_WEBHOOK_ENV) or None),
            race_weekend_cron=_parse_cron(
                env.get("F1_RACE_WEEKEND_CRON") or DEFAULT_RACE_WEEKEND_CRON
            ),
            freshness_cron=_parse_cron(
                env.get("F1_FRESHNESS_CRON") or DEFAULT_FRESHNESS_CRON, "F1_FRESHNESS_CRON"
            ),
            agreement_cron=_parse_cron(
                env.get("F1_AGREEMENT_CRON") or DEFAULT_AGREEMENT_CRON, "F1_AGREEMENT_CRON"
            ),
            freshness_grace_hours=_parse_number(
                "F1_FRESHNESS_GRACE_HOURS",
                env.get("F1_FRESHNESS_GRACE_HOURS"),
                DEFAULT_FRESHNESS_GRACE_HOURS,
                0.0,
                24.0 * 366,
            ),
            hold=HoldPolicy(
                max_shrink_percent=_parse_number(
                    "F1_HOLD_MAX_SHRINK_PERCENT",
                    env.get("F1_HOLD_MAX_SHRINK_PERCENT"),
                    HoldPolicy().max_shrink_percent,
                    0.0,
                    100.0,
                )
            ),
            dagster_url=_parse_url("F1_DAGSTER_URL", env.get("F1_DAGSTER_URL"))
            or DEFAULT_DAGSTER_URL,
            glue=_parse_glue(env),
            glue_job_name=_parse_job_name(env.get("F1_GLUE_JOB_NAME")),
            latest_season=_parse_latest_season(env.get("F1_LATEST_SEASON")),
            code_repository_url=_parse_url(
                "F1_CODE_REPOSITORY_URL", env.get("F1_CODE_REPOSITORY_URL") or None
            ),
            code_branch=env.get("F1_CODE_BRANCH") or "main",
            source_queue_url=_parse_url(
                "F1_SOURCE_QUEUE_URL", env.get("F1_SOURCE_QUEUE_URL") or None
            ),
            dagster_storage=_parse_dagster_storage(env),
            glue_database=_parse_glue_database(env.get("F1_GLUE_DATABASE")),
        )

    @property
    def last_plausible_season(self) -> int:
        return self.latest_season or latest_plausible_season()


# What the PostgreSQL storage block of the instance template reads when it is opened.
POSTGRES_ENV = (
    "DAGSTER_PG_HOST",
    "DAGSTER_PG_PORT",
    "DAGSTER_PG_DB",
    "DAGSTER_PG_USERNAME",
    "DAGSTER_PG_PASSWORD",
)


def _parse_dagster_storage(env: Mapping[str, str]) -> str:
    storage = (env.get("F1_DAGSTER_STORAGE") or "sqlite").strip().lower()
    if storage not in ("sqlite", "postgres"):
        raise SettingsError(f"F1_DAGSTER_STORAGE={storage!r}: use sqlite or postgres")
    missing = [name for name in POSTGRES_ENV if name not in env]
    if storage == "postgres" and missing:
        raise SettingsError(
            f"F1_DAGSTER_STORAGE=postgres needs {', '.join(missing)} (the server, database "
            "and credentials Dagster connects with)"
        )
    return storage


def _parse_latest_season(value: str | None) -> int | None:
    season = _int_or(value, None)
    if season is None:
        return None
    if not latest_plausible_season() <= season <= 9999:
        raise SettingsError(
            f"F1_LATEST_SEASON={value!r}: use a year from next year "
            f"({latest_plausible_season()}) to 9999"
        )
    return season


def _parse_glue_database(value: str | None) -> str | None:
    name = (value or "").strip()
    if name and not re.match(r"^[a-z0-9_]{1,255}$", name):
        raise SettingsError(
            f"F1_GLUE_DATABASE={name!r}: a Glue database name is lower-case letters, digits "
            "and underscores (Athena's rule)"
        )
    return name or None


def _parse_job_name(value: str | None) -> str | None:
    job = (value or "").strip()
    if job and not re.match(r"^[A-Za-z0-9_-]{1,255}$", job):
        raise SettingsError(f"F1_GLUE_JOB_NAME={job!r} is not a Glue job name")
    return job or None


def _parse_glue(env: Mapping[str, str]) -> GlueSettings | None:
    mode = (env.get("F1_SPARK_MODE") or "local").strip().lower()
    if mode not in SPARK_MODES:
        raise SettingsError(f"F1_SPARK_MODE={mode!r}: use one of {', '.join(SPARK_MODES)}")
    if mode == "local":
        return None
    job = _parse_job_name(env.get("F1_GLUE_JOB_NAME"))
    if job is None:
        raise SettingsError("F1_SPARK_MODE=glue needs F1_GLUE_JOB_NAME, the Glue job's name")
    poll = env.get("F1_GLUE_POLL_SECONDS")
    try:
        poll_seconds = float(poll) if poll and poll.strip() else 5.0
    except ValueError:
        poll_seconds = 0.0
    if not 0.1 <= poll_seconds <= 60:
        raise SettingsError(f"F1_GLUE_POLL_SECONDS={poll!r}: use a number of seconds, 0.1-60")
    return GlueSettings(
        job_name=job,
        poll_seconds=poll_seconds,
        max_wait_minutes=_parse_positive_int(
            "F1_GLUE_MAX_WAIT_MINUTES", env.get("F1_GLUE_MAX_WAIT_MINUTES"), 120
        ),
    )


def parse_data_root(value: str) -> Path | S3Root:
    value = value.strip()
    if not value:
        raise SettingsError("F1_DATA_ROOT is set but empty; unset it to use ./data")
    if value.startswith("s3://"):
        return _parse_s3_root(value)
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise SettingsError(
            f"F1_DATA_ROOT={value!r}: storage scheme {scheme!r} is not supported; use a local "
            "directory or s3://bucket[/prefix]"
        )
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"F1_DATA_ROOT={value!r} exists but is not a directory")
    return path


def _parse_s3_root(value: str) -> S3Root:
    bucket, _, prefix = value[len("s3://") :].partition("/")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise SettingsError(f"F1_DATA_ROOT={value!r}: {bucket!r} is not a valid S3 bucket name")
    prefix = prefix.strip("/")
    return S3Root(bucket=bucket, prefix=f"{prefix}/" if prefix else "")


def _parse_url(name: str, value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://[^/\s]+", value):
        raise SettingsError(f"{name}={value!r} is not an http(s) URL")
    return value.rstrip("/") if value else None


def _parse_endpoint(value: str | None) -> str | None:
    return _parse_url("AWS_ENDPOINT_URL", value)


def _int_or(value: str | None, default: int | None) -> int | None:
    """``value`` as an int; ``default`` when unset or blank; 0 (refused by every caller's
    range) when it is not a number."""
    if value is None or not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        return 0


def _parse_positive_int(name: str, value: str | None, default: int) -> int:
    number = _int_or(value, default)
    assert number is not None  # the default is an int
    if number < 1:
        raise SettingsError(f"{name}={value!r} is not a positive integer")
    return number


def _parse_number(name: str, value: str | None, default: float, low: float, high: float) -> float:
    if value is None or not value.strip():
        return default
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        raise SettingsError(f"{name}={value!r}: use a number from {low:g} to {high:g}")
    return number


def _parse_webhook(value: str | None) -> str | None:
    if value is not None and not re.match(r"^https?://[^/\s]+", value):
        raise SettingsError(f"{ALERT_WEBHOOK_ENV} is not an http(s) URL")
    return value


# A standard five-field cron expression (minute hour day-of-month month day-of-week), checked
# here rather than with Dagster's parser: this module is imported by the Glue job, which has
# no Dagster.
_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                      "NOV", "DEC")),
    ("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)  # fmt: skip


def _cron_value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text.upper() in names:
        return names.index(text.upper()) + (1 if low == 1 else 0)
    return int(text) if text.isdigit() and low <= int(text) <= high else None


def _cron_field_ok(field_text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    for item in field_text.split(","):
        span, _, step = item.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return False
        if span == "*":
            continue
        first, _, last = span.partition("-")
        start = _cron_value(first, low, high, names)
        end = _cron_value(last, low, high, names) if last else start
        if start is None or end is None or start > end:
            return False
    return True


_CRON_MACROS = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually")


def _parse_cron(value: str, name: str = "F1_RACE_WEEKEND_CRON") -> str:
    if value.strip().lower() in _CRON_MACROS:
        return value.strip().lower()
    fields = value.split()
    if len(fields) != len(_CRON_FIELDS) or not all(
        _cron_field_ok(text, low, high, names)
        for text, (_, low, high, names) in zip(fields, _CRON_FIELDS, strict=True)
    ):
        raise SettingsError(f"{name}={value!r} is not a valid cron expression")
    return " ".join(fields)


def _parse_dagster_home(value: str, name: str = "DAGSTER_HOME") -> Path:
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"{name}={value!r} exists but is not a directory")
    return path


def _parse_remote(value: str | None) -> str | None:
    if value is not None and not re.match(r"^sc://[^/\s:]+(:\d+)?/?$", value.strip()):
        raise SettingsError(
            f"F1_SPARK_REMOTE={value!r} is not a Spark Connect URL (sc://host:port)"
        )
    return value.strip().rstrip("/") if value else None


def _parse_spark_master(value: str) -> str:
    value = value.strip()
    if not value.startswith("local"):
        raise SettingsError(
            f"F1_SPARK_MASTER={value!r}: only local masters (local, local[N], local[*]) are "
            "supported by the embedded Spark resource"
        )
    return value
