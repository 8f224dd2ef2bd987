"""The one place that assembles the code location's Definitions, loaded lazily by Dagster's
tools (``@dg.definitions``: nothing is built at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from f1_pipeline.core.aws import with_aws_defaults
from f1_pipeline.defs.assets import cleaned, raw, stats
from f1_pipeline.defs.assets.checks import freshness_check, published_files_agree
from f1_pipeline.defs.catalog import catalogued
from f1_pipeline.defs.constants import UPLOAD_QUEUE_KEY
from f1_pipeline.defs.jobs import jobs
from f1_pipeline.defs.resources import build_resources
from f1_pipeline.defs.schedules import schedules_for
from f1_pipeline.defs.sensors import sensors_for


def build_definitions(env: Mapping[str, str]) -> dg.Definitions:
    """Everything Dagster shows and runs, configured by the variables ``env`` holds. Tests
    swap a resource the Dagster way: ``materialize(..., resources=...)``, or a Definitions
    built from another environment."""
    resources = build_resources(env)
    return dg.Definitions(
        assets=catalogued([*raw.assets, *cleaned.assets, *stats.assets], resources, env),
        asset_checks=[freshness_check, published_files_agree],
        jobs=jobs,
        sensors=sensors_for(queue=UPLOAD_QUEUE_KEY in resources),
        schedules=schedules_for(env),
        resources=resources,
        # One process per run: a run's steps share one Spark session (one JVM) instead of each
        # step process starting its own, and killing a run's process stops all of its work.
        # Glue mode too: its steps only wait on job runs.
        executor=dg.in_process_executor,
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location, from this process's environment (the code server's, a run's)."""
    with_aws_defaults(os.environ)
    return build_definitions(os.environ)
