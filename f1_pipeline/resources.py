"""The one function that builds the resources, from validated settings."""

from __future__ import annotations

from typing import Any

from dagster_aws.s3 import S3Resource

from f1_pipeline.alerts import AlertSink
from f1_pipeline.constants import ALERTS_KEY, SPARK_KEY, STORAGE_KEY
from f1_pipeline.runners import LocalSpark, StepRunner
from f1_pipeline.runners.glue import GlueSpark
from f1_pipeline.settings import S3Root, Settings
from f1_pipeline.spark import spark_config
from f1_pipeline.storage import LocalStorage, Storage
from f1_pipeline.storage.s3 import S3Storage


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
