"""The local Spark session's configuration, for the pipeline's resource, the Glue entry
script off Glue (the local stand-in) and the tests. No Dagster here."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

DEFAULT_MASTER = "local[*]"
# SQL behaviour that differs between Spark lines (Glue 5 runs 3.5, the local session 4.x) or
# hosts, made explicit: every session that runs the steps gets these, on Glue too.
SQL_CONF = {
    "spark.sql.session.timeZone": "UTC",
    # 4.x's default, off by default on 3.5: an unexpected cast or overflow fails loudly
    # instead of becoming a null. The transforms do not depend on it (they never cast a value
    # that was not matched first), so this only guards code added later.
    "spark.sql.ansi.enabled": "true",
}


def spark_config(
    master: str = DEFAULT_MASTER, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Local-session settings tuned for small, many-seasons jobs on a laptop-sized machine."""
    return {
        "spark.master": master,
        "spark.app.name": "f1-pipeline",
        # Small tables: the default of 200 shuffle partitions costs seconds per stage.
        "spark.sql.shuffle.partitions": "4",
        **SQL_CONF,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.log.level": "WARN",
        # Python workers (when any) run this interpreter, not whatever python3 is on PATH.
        "spark.pyspark.python": sys.executable,
        "spark.pyspark.driver.python": sys.executable,
        # Keep the driver on loopback: nothing of ours listens on other interfaces.
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        **(extra or {}),
    }


def local_session(conf: Mapping[str, str]) -> Any:
    """A SparkSession with ``conf`` (or the running one)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in conf.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
