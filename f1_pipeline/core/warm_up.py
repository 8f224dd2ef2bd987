"""The warm engine's warm-up: ``python -m f1_pipeline.core.warm_up sc://localhost:PORT`` (its
token in ``SPARK_CONNECT_AUTHENTICATE_TOKEN``) runs the ingest and stats steps on a
synthetic 40-season upload, a few rounds, each in a fresh scratch root, so the first real
runs find the server's code generated and its JIT warm, not only its classes loaded (a JVM
compiles a method after thousands of calls)."""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

ROUNDS = 3
SEASONS = range(1985, 2025)


def _ignore(_outcome: object) -> None:
    """The warm-up's check outcomes: nobody reads them."""


def warm_up(session: Any, rounds: int = ROUNDS) -> list[int]:
    """Run the steps ``rounds`` times on the warm-up upload; the seasons last published."""
    from f1_pipeline.core.steps import StepContext, run_step
    from f1_pipeline.core.steps.io import LocalStagedIO
    from f1_pipeline.core.storage import LocalStorage, layout
    from f1_pipeline.core.synthetic import export

    upload, published = dict(zip(layout.SOURCE_TABLES, export(SEASONS), strict=True)), []
    log = logging.getLogger("f1_pipeline.warm_up")
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="f1-warm-up-") as root:
            storage = LocalStorage(Path(root))
            for table, text in upload.items():
                storage.write_bytes(layout.source_csv(table), text.encode())
            ctx = StepContext(storage, session, LocalStagedIO(storage), log, "warm-up", _ignore)
            run_step("ingest", ctx, {"latest_season": SEASONS[-1]})
            stats = run_step("season_stats", ctx, {"seasons": list(SEASONS)})
            published = stats.data["seasons"]
    return published


if __name__ == "__main__":
    from pyspark.sql import SparkSession

    from f1_pipeline.core.spark import SQL_CONF

    warm_up(SparkSession.builder.remote(sys.argv[1]).config(map=dict(SQL_CONF)).getOrCreate())
