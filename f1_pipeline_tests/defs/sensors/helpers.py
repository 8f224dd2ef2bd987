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
    resources: dict | None = None,
):
    """One evaluation, as the daemon would do it: run requests, skip message, new cursor."""
    # The daemon resolves dynamic partitions against the instance; do the same here.
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


def execute(
    defs: Definitions,
    instance: DagsterInstance,
    sensor: SensorDefinition,
    request,
    raise_on_error: bool = True,
):
    """Run a sensor's run request to completion in this process."""
    job = defs.resolve_job_def(sensor.job_name)
    return job.execute_in_process(
        instance=instance,
        tags=request.tags,
        partition_key=request.partition_key,
        raise_on_error=raise_on_error,
    )


def materialized_partitions(result) -> list[str | None]:
    return sorted(
        e.event_specific_data.materialization.partition
        for e in result.get_asset_materialization_events()
    )


class Platform:
    """The code location over one data root, its sensors ticked by hand as the daemon would
    (cursors kept), and what they request run to completion in this process."""

    def __init__(self, settings, instance: DagsterInstance) -> None:
        from f1_pipeline.definitions import build_definitions
        from f1_pipeline.defs.resources import storage_resource

        self.settings = settings
        self.defs = build_definitions(settings)
        self.storage_resource = storage_resource(settings)
        self.storage = self.storage_resource.get()
        self.instance = instance
        self.cursors: dict[str, str | None] = {}
        self.resources: dict | None = None  # all of them, to tick a sensor needing more

    def tick(self, sensor: SensorDefinition):
        data = tick(sensor, self.instance, self.storage_resource, self.cursors.get(sensor.name),
                    self.defs, self.resources)  # fmt: skip
        self.cursors[sensor.name] = data.cursor
        return data

    def react(self, rounds: int = 8, sensors: tuple = ()) -> list:
        """Tick until the sensors are quiet, running what they request; return the runs."""
        from f1_pipeline.defs.sensors.source_data import source_data_sensor
        from f1_pipeline.defs.sensors.stale_seasons import stale_seasons_sensor

        results = []
        for _ in range(rounds):
            requested = False
            for sensor in sensors or (source_data_sensor, stale_seasons_sensor):
                data = self.tick(sensor)
                for partition_request in data.dynamic_partitions_requests or []:
                    _apply(self.instance, partition_request)
                for request in data.run_requests:
                    requested = True
                    result = execute(
                        self.defs, self.instance, sensor, request, raise_on_error=False
                    )
                    results.append((sensor.name, result))
            if not requested and results:
                break
        return results


def _apply(instance: DagsterInstance, request) -> None:
    """What the daemon does with a sensor's dynamic partition request."""
    from dagster import AddDynamicPartitionsRequest

    if isinstance(request, AddDynamicPartitionsRequest):
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
    else:
        for key in request.partition_keys:
            instance.delete_dynamic_partition(request.partitions_def_name, key)
