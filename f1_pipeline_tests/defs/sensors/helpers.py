"""One sensor evaluation in-process, as the daemon would call it (Dagster's own loops are
driven in daemon.py)."""

from __future__ import annotations

from dagster import DagsterInstance, Definitions, SensorDefinition, build_sensor_context
from dagster._core.definitions.partitions.context import partition_loading_context

from f1_pipeline.defs.constants import STORAGE_KEY
from f1_pipeline.defs.resources import StorageResource


def tick(
    sensor: SensorDefinition,
    instance: DagsterInstance,
    storage: StorageResource | None,
    cursor: str | None = None,
    defs: Definitions | None = None,
    resources: dict | None = None,
):
    """One evaluation: run requests, skip message, new cursor."""
    with (
        build_sensor_context(
            instance=instance,
            cursor=cursor,
            resources=resources or {STORAGE_KEY: storage},
            definitions=defs,
        ) as context,
        partition_loading_context(dynamic_partitions_store=instance),
    ):
        return sensor.evaluate_tick(context)


def execute(defs: Definitions, instance: DagsterInstance, data, request):
    """What the daemon does with a tick's run request, in this process, to the end."""
    job = defs.resolve_job_def(request.job_name or "f1_job")
    return job.execute_in_process(instance=instance, tags=request.tags, raise_on_error=False)
