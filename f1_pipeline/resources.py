"""The one function that builds the resources, from validated settings."""

from __future__ import annotations

import sys
from typing import Any

from dagster_aws.s3 import S3Resource

from f1_pipeline.alerts import AlertSink
from f1_pipeline.constants import ALERTS_KEY, SPARK_KEY, STORAGE_KEY
from f1_pipeline.runners import LocalSpark, StepRunner
from f1_pipeline.runners.glue import GlueSpark
from f1_pipeline.settings import S3Root, Settings
from f1_pipeline.storage import LocalStorage, Storage
from f1_pipeline.storage.s3 import S3Storage


def spark_config(settings: Settings) -> dict[str, str]:
    """Local-session settings tuned for small, many-seasons jobs on a laptop-sized machine."""
    return {
        "spark.master": settings.spark_master,
        "spark.app.name": "f1-pipeline",
        # Small tables: the default of 200 shuffle partitions costs seconds per stage.
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.session.timeZone": "UTC",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.log.level": "WARN",
        # Python workers (when any) run this interpreter, not whatever python3 is on PATH.
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        # Keep the driver on loopback: nothing of ours listens on other interfaces.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        **settings.spark_conf,
    }


def s3_resource(settings: Settings) -> S3Resource:
    """dagster-aws's S3 resource: boto3's standard credential chain, our endpoint and region,
    and standard-mode retries for throttling and connection errors."""
    return S3Resource(
        endpoint_url=settings.aws.endpoint_url,
        region_name=settings.aws.region,
        max_attempts=settings.aws.max_attempts,
    )


def build_storage(settings: Settings) -> Storage:
    root = settings.data_root
    if isinstance(root, S3Root):
        return S3Storage(s3_resource(settings).get_client, root.bucket, root.prefix)
    return LocalStorage(root)


def glue_client(settings: Settings) -> Any:
    """A boto3 Glue client with standard-mode retries (throttling, connection errors)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "glue",
        region_name=settings.aws.region,
        config=Config(retries={"mode": "standard", "max_attempts": settings.aws.max_attempts}),
    )


def build_spark(settings: Settings, storage: Storage, glue: Any | None = None) -> StepRunner:
    """Where the Spark steps run. ``glue``: a ready Glue client (or an object with the same
    calls) to use instead of building one from the settings."""
    if settings.glue is None:
        return LocalSpark(storage, spark_config(settings))
    root = settings.data_root
    assert isinstance(root, S3Root)  # Settings guarantees it in Glue mode
    return GlueSpark(
        job_name=settings.glue.job_name,
        data_root=root,
        glue_client=(lambda: glue) if glue is not None else (lambda: glue_client(settings)),
        s3_client=s3_resource(settings).get_client,
        poll_seconds=settings.glue.poll_seconds,
        max_wait_seconds=settings.glue.max_wait_minutes * 60,
    )


def build_resources(settings: Settings, glue: Any | None = None) -> dict[str, Any]:
    storage = build_storage(settings)
    return {
        STORAGE_KEY: storage,
        SPARK_KEY: build_spark(settings, storage, glue),
        ALERTS_KEY: AlertSink(settings.alert_webhook_url),
    }
