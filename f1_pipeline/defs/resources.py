"""The resources: the platform's configuration, as the UI's Resources page shows it.

Each is a ``ConfigurableResource`` (around a Dagster-free object where there is one: the
storage, the step runner), its fields set by the variables they name (:mod:`.config`):
defaults and rules are written here once. :func:`build_resources` is the one place that
builds them.
"""

# No `from __future__ import annotations` here: Dagster reads these classes' annotations at
# class creation (a string `ResourceDependency[Any]` is not recognised as one).
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from dagster import AssetExecutionContext, ConfigurableResource, ResourceDependency
from dagster_pyspark import LazyPySparkResource
from pydantic import PrivateAttr, field_validator, model_validator

from f1_pipeline.core import spark
from f1_pipeline.core.aws import aws_client
from f1_pipeline.core.code_version import code_versions
from f1_pipeline.core.holds import HoldPolicy
from f1_pipeline.core.spark import MODE_VAR
from f1_pipeline.core.storage import S3Root, Storage, open_storage, parse_data_root
from f1_pipeline.core.storage.root import DATA_ROOT_DEFAULT, DATA_ROOT_VAR
from f1_pipeline.core.transforms.schema import latest_plausible_season
from f1_pipeline.defs.alerts import AlertsResource
from f1_pipeline.defs.config import env_field, from_env
from f1_pipeline.defs.constants import (
    ALERTS_KEY,
    CATALOG_KEY,
    FRESHNESS_KEY,
    STEP_RUNNER_KEY,
    STORAGE_KEY,
    UPLOAD_QUEUE_KEY,
)
from f1_pipeline.defs.runners import LocalSpark, StepRun, StepRunner

URL = r"^https?://[^/\s]+"


class StorageResource(ConfigurableResource):
    """The storage root holding source-data/, cleaned/ and results/: a local directory or an
    S3 location (any S3-compatible endpoint: botocore's own AWS_ENDPOINT_URL)."""

    data_root: str = env_field(
        DATA_ROOT_DEFAULT,
        DATA_ROOT_VAR,
        "A local directory or s3://bucket[/prefix]",
        validate_default=True,
    )

    _storage: Storage | None = PrivateAttr(default=None)

    @field_validator("data_root")
    @classmethod
    def _root(cls, value: str) -> str:
        return str(parse_data_root(value))

    def root(self) -> Path | S3Root:
        return parse_data_root(self.data_root)

    def get(self) -> Storage:
        """The Dagster-free storage (built once per resource instance, without network)."""
        if self._storage is None:
            self._storage = open_storage(self.root())
        return self._storage

    def needs_s3(self, what: str) -> None:
        if not isinstance(self.root(), S3Root):
            raise ValueError(
                f"{what} needs F1_DATA_ROOT=s3://bucket[/prefix], not {self.data_root}"
            )


class SparkResource(ConfigurableResource):
    """Where local runs get their Spark session (dagster-pyspark's LazyPySparkResource: a run
    that computes nothing starts no Spark): a client of the warm engine of the Dagster home
    when it runs (`f1-pipeline spark start`), or of F1_SPARK_REMOTE, else the run's own
    in-process session."""

    master: str = env_field(
        spark.DEFAULT_MASTER, spark.MASTER_VAR, "The master of the Spark started here",
        pattern=r"^local(\[(\*|[1-9][0-9]*)\])?$",
        hint="only local masters (local, local[N], local[*]) run here",
    )  # fmt: skip
    remote: str | None = env_field(
        None, spark.REMOTE_VAR, "A Spark Connect server of your own (its token in "
        "SPARK_CONNECT_AUTHENTICATE_TOKEN); unset: the warm engine, else the run's own session",
        pattern=r"^sc://[^/\s:]+(:[0-9]+)?/?$", hint="not a Spark Connect URL (sc://host:port)",
    )  # fmt: skip
    dagster_home: str | None = env_field(
        None, "DAGSTER_HOME", "The Dagster home whose warm engine runs use; unset: none"
    )
    classes: str | None = env_field(
        None, spark.CLASSES_VAR, "The JVMs' class archive folder; unset: spark/ in the home"
    )

    def engine(self) -> spark.Engine:
        home = Path(self.dagster_home).resolve() if self.dagster_home else None
        return spark.Engine(home, self.master, Path(self.classes) if self.classes else None)

    def session(self, log: Any, source_bytes: int | None = None) -> Any:
        """The session this run uses, chosen now (:meth:`spark.Engine.session_config`)."""
        engine = self.engine()
        config = engine.session_config(self.remote, source_bytes)
        remote = config.get("spark.remote")
        if not remote:  # the JVM's own output to the home's log, not the run's stderr
            spark.local_session(config, engine.home / "logs" / "spark.log")
        session = LazyPySparkResource(spark_config=config).spark_session
        if remote:
            from pyspark.sql.connect.client.retries import DefaultPolicy

            # A server on loopback answers at once or is gone: retry a call for seconds, not
            # the client's default minutes.
            session.client.set_retry_policies([DefaultPolicy(max_retries=5, max_backoff=1000)])
        log.info(f"Spark: the Connect server at {remote}" if remote else "Spark: this run's own "
                 "session (`f1-pipeline spark start` keeps a warm one)")  # fmt: skip
        return session


class StepRunnerResource(ConfigurableResource):
    """Runs the Spark steps (f1_pipeline.core.steps): on the run's local Spark session (mode
    ``local``), or each step as a run of an AWS Glue job through Dagster Pipes (``glue``).
    The assets do not know which."""

    storage: StorageResource
    spark: SparkResource
    mode: Literal["local", "glue"] = env_field("local", MODE_VAR, "local or glue")
    latest_season: int | None = env_field(
        None, "F1_LATEST_SEASON", "The latest season an upload may hold; unset: next year",
        ge=latest_plausible_season(), le=9999,
        hint=f"use a year from next year ({latest_plausible_season()}) to 9999",
    )  # fmt: skip
    hold_max_shrink_percent: float = env_field(
        10.0, "F1_HOLD_MAX_SHRINK_PERCENT", "An upload removing more than this share of a "
        "season's races or results is held until accepted", ge=0, le=100,
    )  # fmt: skip
    history_keep: int = env_field(
        10, "F1_HISTORY_KEEP", "On a local root, the last uploads whose source files are kept "
        "for a rollback (archive/uploads/)", ge=1,
    )  # fmt: skip
    glue_job_name: str | None = env_field(
        None,
        "F1_GLUE_JOB_NAME",
        "The Glue job (glue mode)",
        pattern=r"^[A-Za-z0-9_-]{1,255}$",
        hint="not a Glue job name",
    )
    glue_poll_seconds: float = env_field(
        5.0, "F1_GLUE_POLL_SECONDS", "How often a job run's state is read", ge=0.1, le=60
    )
    glue_max_wait_minutes: int = env_field(
        120, "F1_GLUE_MAX_WAIT_MINUTES", "A job run still running after this is stopped", ge=1
    )
    # A ready Glue client (or an object answering the same calls); None: boto3's, built on a
    # step's first use. Tests put the local Glue stand-in here.
    glue_client: ResourceDependency[Any] = None  # type: ignore[assignment]

    _runner: StepRunner | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _glue(self) -> "StepRunnerResource":
        if self.mode == "glue":
            self.storage.needs_s3("F1_SPARK_MODE=glue")
            if not self.glue_job_name:
                raise ValueError("F1_SPARK_MODE=glue needs F1_GLUE_JOB_NAME, the Glue job's name")
        return self

    def last_season(self) -> int:
        """The latest season an upload may hold."""
        return self.latest_season or latest_plausible_season()

    def hold_policy(self) -> HoldPolicy:
        return HoldPolicy(max_shrink_percent=self.hold_max_shrink_percent)

    def runner(self) -> StepRunner:
        if self._runner is None:
            self._runner = self._build()
        return self._runner

    def _build(self) -> StepRunner:
        if self.mode == "local":
            return LocalSpark(self.storage.get(), self.spark.session)
        from f1_pipeline.defs.runners.glue import GlueSpark

        root = self.storage.root()
        assert isinstance(root, S3Root)
        assert self.glue_job_name
        client = self.glue_client
        return GlueSpark(
            job_name=self.glue_job_name,
            data_root=root,
            glue_client=(lambda: client) if client is not None else (lambda: aws_client("glue")),
            s3_client=lambda: aws_client("s3"),
            poll_seconds=self.glue_poll_seconds,
            max_wait_seconds=self.glue_max_wait_minutes * 60,
        )

    def run(self, context: AssetExecutionContext, step: str, params: Mapping[str, Any]) -> StepRun:
        return self.runner().run(context, step, params)

    def code_versions(self) -> dict[str, str] | None:
        """The versions of the code the steps run: this process's modules locally, the
        deployed job's wheel in Glue mode (None when the deployed job does not say)."""
        if self.mode == "local":
            return code_versions()
        return self.runner().code_versions()


class CatalogResource(ConfigurableResource):
    """The Glue Data Catalog database the published tables are registered in (for Athena,
    Redshift Spectrum, EMR, Glue): after each publish the tables are checked against the
    schema and the season table's partitions made the published seasons. Without a
    database, nothing is registered."""

    storage: StorageResource
    database: str | None = env_field(
        None, "F1_GLUE_DATABASE", "The Glue database; unset: no catalog",
        pattern=r"^[a-z0-9_]{1,255}$",
        hint="a Glue database name is lower-case letters, digits and underscores",
    )  # fmt: skip

    @model_validator(mode="after")
    def _s3(self) -> "CatalogResource":
        if self.database:
            self.storage.needs_s3("F1_GLUE_DATABASE")
        return self

    def table_name(self, asset: str) -> str | None:
        """``database.table`` of an asset (user string), or None without a catalog."""
        from f1_pipeline.core.glue_catalog import TABLE_NAMES

        return f"{self.database}.{TABLE_NAMES[asset]}" if self.database else None

    def register(self) -> tuple[dict[str, str], list[int], list[int]] | None:
        """The tables made the schema's (created or updated when they differ), then the
        season table's partitions the manifest's published seasons: (what was done per table,
        seasons added, seasons removed); None without a catalog. Idempotent: a retry, or the
        next publish, repairs a registration that failed."""
        if not self.database:
            return None
        from f1_pipeline.core.glue_catalog import catalog_seasons, ensure_tables, sync_partitions

        storage, root, glue = self.storage.get(), self.storage.data_root, aws_client("glue")
        tables = ensure_tables(glue, self.database, root)
        added, removed = sync_partitions(glue, self.database, root, catalog_seasons(storage))
        return tables, added, removed


class UploadQueueResource(ConfigurableResource):
    """The SQS queue receiving the bucket's upload events (the stack's UploadsQueue)."""

    storage: StorageResource
    queue_url: str = env_field(
        None, "F1_SOURCE_QUEUE_URL", "The queue's URL", pattern=URL, hint="not an http(s) URL"
    )
    # A tick holds its thread for about this long listening (ticks stay short: waiting is
    # the daemon's business); the next tick starts at the daemon's next round.
    wait_seconds: int = env_field(
        3, "F1_SOURCE_QUEUE_WAIT_SECONDS", "Long poll per sensor tick", ge=0, le=20
    )

    @model_validator(mode="after")
    def _s3(self) -> "UploadQueueResource":
        self.storage.needs_s3("F1_SOURCE_QUEUE_URL")
        return self

    def client(self) -> Any:
        return aws_client("sqs")


class FreshnessResource(ConfigurableResource):
    """The results-freshness check's patience."""

    grace_hours: float = env_field(
        36.0, "F1_FRESHNESS_GRACE_HOURS", "A race is late when it started this long ago and "
        "has no results", ge=0, le=24 * 366,
    )  # fmt: skip


def build_resources(env: Mapping[str, str]) -> dict[str, ConfigurableResource]:
    """Every resource of the code location, from the variables ``env`` holds."""
    storage = from_env(StorageResource, env)
    resources: dict[str, ConfigurableResource] = {
        STORAGE_KEY: storage,
        STEP_RUNNER_KEY: from_env(
            StepRunnerResource, env, storage=storage, spark=from_env(SparkResource, env)
        ),
        ALERTS_KEY: from_env(AlertsResource, env),
        CATALOG_KEY: from_env(CatalogResource, env, storage=storage),
        FRESHNESS_KEY: from_env(FreshnessResource, env),
    }
    if (env.get("F1_SOURCE_QUEUE_URL") or "").strip():
        resources[UPLOAD_QUEUE_KEY] = from_env(UploadQueueResource, env, storage=storage)
    return resources
