"""Driving sensors and their run requests in-process against a real instance."""

from __future__ import annotations

from dagster import DagsterInstance, Definitions, SensorDefinition, build_sensor_context
from dagster._core.definitions.partitions.context import partition_loading_context

from f1_pipeline.defs.constants import STORAGE_KEY
from f1_pipeline.defs.resources import StorageResource


def tick(
    sensor: SensorDefinition,
    instance: DagsterInstance,
    storage: StorageResource,
    cursor: str | None = None,
    defs: Definitions | None = None,
):
    """One evaluation, as the daemon would do it: run requests, skip message, new cursor."""
    context = build_sensor_context(
        instance=instance, cursor=cursor, resources={STORAGE_KEY: storage}, definitions=defs
    )
    # The daemon resolves dynamic partitions against the instance; do the same here.
    with partition_loading_context(dynamic_partitions_store=instance):
        return sensor.evaluate_tick(context)


def execute(defs: Definitions, instance: DagsterInstance, sensor: SensorDefinition, request):
    """Run a sensor's run request to completion in this process."""
    job = defs.resolve_job_def(sensor.job_name)
    return job.execute_in_process(
        instance=instance, tags=request.tags, partition_key=request.partition_key
    )


def materialized_partitions(result) -> list[str | None]:
    return sorted(
        e.event_specific_data.materialization.partition
        for e in result.get_asset_materialization_events()
    )
