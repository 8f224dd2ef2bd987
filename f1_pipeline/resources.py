"""The one function that builds the resources, from validated settings."""

from __future__ import annotations

from typing import Any

from dagster_pyspark import LazyPySparkResource

from f1_pipeline.constants import SPARK_KEY, STORAGE_KEY
from f1_pipeline.settings import Settings
from f1_pipeline.storage import LocalStorage, Storage


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
        # Keep the driver on loopback: nothing of ours listens on other interfaces.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        **settings.spark_conf,
    }


def build_storage(settings: Settings) -> Storage:
    return LocalStorage(settings.data_root)


def build_resources(settings: Settings) -> dict[str, Any]:
    return {
        STORAGE_KEY: build_storage(settings),
        SPARK_KEY: LazyPySparkResource(spark_config=spark_config(settings)),
    }
