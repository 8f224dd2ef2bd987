"""The resources, as Dagster sees them, and the one function that builds them from settings.

Each is a ``ConfigurableResource`` around a Dagster-free object (the storage, the step
runner), so the UI's Resources page shows how it is configured; the alert webhook URL, a
secret, is an ``EnvVar`` reference and never shown.
"""

# No `from __future__ import annotations` here: Dagster reads these classes' annotations at
# class creation (a string `ResourceDependency[Any]` is not recognised as one).
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, ConfigurableResource, EnvVar, ResourceDependency
from pydantic import Field, PrivateAttr

from f1_pipeline.core.code_version import code_versions
from f1_pipeline.core.holds import HoldPolicy
from f1_pipeline.core.spark import DEFAULT_MASTER, ClassArchive, spark_config
from f1_pipeline.core.storage import S3Root, Storage, open_storage
from f1_pipeline.core.storage.s3 import s3_client
from f1_pipeline.defs.alerts import AlertsResource
from f1_pipeline.defs.constants import (
    ALERTS_KEY,
    CATALOG_KEY,
    STEP_RUNNER_KEY,
    STORAGE_KEY,
    UPLOAD_QUEUE_KEY,
)
from f1_pipeline.defs.runners import LocalSpark, StepRun, StepRunner
from f1_pipeline.settings import ALERT_WEBHOOK_ENV, Settings, parse_data_root


class StorageResource(ConfigurableResource):
    """The storage root holding source-data/, cleaned/ and results/: a local directory or an
    S3 location (any S3-compatible endpoint)."""

    data_root: str = Field(description="A local directory or s3://bucket[/prefix].")
    endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint; unset: AWS."
    )
    region: str | None = Field(default=None, description="The bucket's AWS region.")
    max_attempts: int = Field(default=5, description="botocore's attempts per S3 call.")

    _storage: Storage | None = PrivateAttr(default=None)

    def s3_client(self) -> Any:
        return s3_client(self.endpoint_url, self.region, self.max_attempts)

    def get(self) -> Storage:
        """The Dagster-free storage (built once per resource instance, without network)."""
        if self._storage is None:
            self._storage = open_storage(parse_data_root(self.data_root), self.s3_client)
        return self._storage


class CatalogResource(ConfigurableResource):
    """The Glue Data Catalog database the published tables are registered in (for Athena,
    Redshift Spectrum, EMR, Glue): after each publish the tables are checked against the
    schema and the season table's partitions made the published seasons. Without a
    database, nothing is registered."""

    database: str | None = Field(
        default=None, description="The Glue database (F1_GLUE_DATABASE); unset: no catalog."
    )
    data_root: str = Field(description="s3://bucket[/prefix] the tables point at.")
    endpoint_url: str | None = Field(default=None, description="AWS-compatible endpoint.")
    region: str | None = Field(default=None, description="The catalog's AWS region.")
    max_attempts: int = Field(default=5, description="botocore's attempts per Glue call.")

    def client(self) -> Any:
        return aws_client("glue", self.region, self.max_attempts, self.endpoint_url)

    def table_name(self, asset: str) -> str | None:
        """``database.table`` of an asset (user string), or None without a catalog."""
        from f1_pipeline.core.glue_catalog import TABLE_NAMES

        return f"{self.database}.{TABLE_NAMES[asset]}" if self.database else None

    def register(self, storage: Storage) -> tuple[dict[str, str], list[int], list[int]] | None:
        """The tables made the schema's (created or updated when they differ), then the
        season table's partitions the manifest's published seasons: (what was done per table,
        seasons added, seasons removed); None without a catalog. Idempotent: a retry, or the
        next publish, repairs a registration that failed."""
        if not self.database:
            return None
        from f1_pipeline.core.glue_catalog import catalog_seasons, ensure_tables, sync_partitions

        root, glue = str(parse_data_root(self.data_root)), self.client()
        tables = ensure_tables(glue, self.database, root)
        added, removed = sync_partitions(glue, self.database, root, catalog_seasons(storage))
        return tables, added, removed


class UploadQueueResource(ConfigurableResource):
    """The SQS queue receiving the bucket's upload events (the stack's UploadsQueue)."""

    queue_url: str = Field(description="The queue's URL (F1_SOURCE_QUEUE_URL).")
    endpoint_url: str | None = Field(default=None, description="SQS-compatible endpoint.")
    region: str | None = Field(default=None, description="The queue's AWS region.")
    max_attempts: int = Field(default=5, description="botocore's attempts per SQS call.")
    # A tick holds its thread for about this long listening (ticks stay short: waiting is
    # the daemon's business); the next tick starts at the daemon's next round.
    wait_seconds: int = Field(
        default=3, description="Long poll per sensor tick (0-20 s): an upload is seen at once."
    )

    def client(self) -> Any:
        return aws_client("sqs", self.region, self.max_attempts, self.endpoint_url)


def aws_client(
    service: str, region: str | None, max_attempts: int, endpoint_url: str | None = None
) -> Any:
    """A boto3 client with standard-mode retries (throttling, connection errors)."""
    import boto3
    from botocore.config import Config

    make_client: Any = boto3.client  # one signature for any service name
    return make_client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(retries={"mode": "standard", "max_attempts": max_attempts}),
    )


def glue_client(region: str | None, max_attempts: int) -> Any:
    """A boto3 Glue client with standard-mode retries (throttling, connection errors)."""
    return aws_client("glue", region, max_attempts)


class StepRunnerResource(ConfigurableResource):
    """Runs the Spark steps (f1_pipeline.core.steps): on the local Spark session in the run's
    process (mode ``local``), or each step as a run of an AWS Glue job through Dagster Pipes
    (mode ``glue``). The assets do not know which."""

    storage: StorageResource
    mode: str = Field(default="local", description="local or glue (F1_SPARK_MODE).")
    spark_master: str = Field(default=DEFAULT_MASTER, description="Local Spark master.")
    spark_remote: str | None = Field(
        default=None,
        description="A Spark Connect server (F1_SPARK_REMOTE); unset: the one `f1-pipeline "
        "spark start` runs for the Dagster home, else an embedded session.",
    )
    dagster_home: str | None = Field(
        default=None, description="Where `f1-pipeline spark start` records its server."
    )
    spark_classes: str | None = Field(
        default=None,
        description="The embedded JVM's class archive folder (F1_SPARK_CLASSES; mapped when "
        "`f1-pipeline run` has recorded one: faster cold starts).",
    )
    latest_season: int | None = Field(
        default=None,
        description="The latest season an upload may hold (F1_LATEST_SEASON); unset: next year.",
    )
    hold_max_shrink_percent: float = Field(
        default=HoldPolicy().max_shrink_percent,
        description="An upload removing more than this share of a season's races or results "
        "is held until accepted (F1_HOLD_MAX_SHRINK_PERCENT).",
    )
    glue_job_name: str | None = Field(default=None, description="The Glue job (glue mode).")
    glue_poll_seconds: float = Field(default=5.0, description="Job run state poll interval.")
    glue_max_wait_minutes: int = Field(
        default=120, description="A job run still running after this is stopped."
    )
    # A ready Glue client (or an object answering the same calls); None: boto3's, built on a
    # step's first use. Tests put the local Glue stand-in here.
    glue_client: ResourceDependency[Any] = None  # type: ignore[assignment]

    _runner: StepRunner | None = PrivateAttr(default=None)

    def runner(self) -> StepRunner:
        if self._runner is None:
            self._runner = self._build()
        return self._runner

    def _build(self) -> StepRunner:
        storage = self.storage.get()
        if self.mode == "local":
            home = Path(self.dagster_home) if self.dagster_home else None
            classes = ClassArchive(Path(self.spark_classes)) if self.spark_classes else None
            conf = spark_config(
                self.spark_master, java_options=classes.java_options() if classes else ()
            )
            return LocalSpark(storage, conf, self.spark_remote, home)
        from f1_pipeline.defs.runners.glue import GlueSpark

        root = parse_data_root(self.storage.data_root)
        if not isinstance(root, S3Root) or not self.glue_job_name:
            raise ValueError("glue mode needs an s3:// data root and a Glue job name")
        client = self.glue_client
        return GlueSpark(
            job_name=self.glue_job_name,
            data_root=root,
            glue_client=(lambda: client)
            if client is not None
            else (lambda: glue_client(self.storage.region, self.storage.max_attempts)),
            s3_client=self.storage.s3_client,
            poll_seconds=self.glue_poll_seconds,
            max_wait_seconds=self.glue_max_wait_minutes * 60,
        )

    def run(self, context: AssetExecutionContext, step: str, params: Mapping[str, Any]) -> StepRun:
        return self.runner().run(context, step, params)

    def hold_policy(self) -> HoldPolicy:
        return HoldPolicy(max_shrink_percent=self.hold_max_shrink_percent)

    def code_versions(self) -> dict[str, str] | None:
        """The versions of the code the steps run: this process's modules locally, the
        deployed job's wheel in Glue mode (None when the deployed job does not say)."""
        if self.mode == "local":
            return code_versions()
        return self.runner().code_versions()


def storage_resource(settings: Settings) -> StorageResource:
    return StorageResource(
        data_root=str(settings.data_root),
        endpoint_url=settings.aws.endpoint_url,
        region=settings.aws.region,
        max_attempts=settings.aws.max_attempts,
    )


def catalog_resource(settings: Settings) -> CatalogResource:
    return CatalogResource(
        database=settings.glue_database,
        data_root=str(settings.data_root),
        endpoint_url=settings.aws.endpoint_url,
        region=settings.aws.region,
        max_attempts=settings.aws.max_attempts,
    )


def build_resources(settings: Settings) -> dict[str, ConfigurableResource]:
    """Every resource of the code location, from validated settings."""
    storage = storage_resource(settings)
    glue = settings.glue
    step_runner = StepRunnerResource(
        storage=storage,
        mode=settings.spark_mode,
        spark_master=settings.spark_master,
        spark_remote=settings.spark_remote,
        dagster_home=str(settings.dagster_home),
        spark_classes=str(settings.spark_class_folder),
        latest_season=settings.latest_season,
        hold_max_shrink_percent=settings.hold.max_shrink_percent,
        glue_job_name=glue.job_name if glue else None,
        glue_poll_seconds=glue.poll_seconds if glue else 5.0,
        glue_max_wait_minutes=glue.max_wait_minutes if glue else 120,
    )
    alerts = AlertsResource(
        ui_url=settings.dagster_url,
        # A secret: referenced by name, so neither the UI nor the run config ever shows it.
        webhook_url=EnvVar(ALERT_WEBHOOK_ENV) if settings.alert_webhook_url else None,
    )
    resources: dict[str, ConfigurableResource] = {
        STORAGE_KEY: storage,
        STEP_RUNNER_KEY: step_runner,
        ALERTS_KEY: alerts,
        CATALOG_KEY: catalog_resource(settings),
    }
    if settings.source_queue_url:
        resources[UPLOAD_QUEUE_KEY] = UploadQueueResource(
            queue_url=settings.source_queue_url,
            endpoint_url=settings.aws.endpoint_url,
            region=settings.aws.region,
            max_attempts=settings.aws.max_attempts,
        )
    return resources
