"""Sensors: uploads (listed, or pushed through SQS) become published seasons; failed runs and
changes of the data's freshness and of the published files' agreement are alerted."""

from dagster import SensorDefinition

from f1_pipeline.defs.sensors.freshness import (
    freshness_alert_sensor,
    published_files_alert_sensor,
)
from f1_pipeline.defs.sensors.run_failure import run_failure_alert_sensor
from f1_pipeline.defs.sensors.source_data import source_data_sensor
from f1_pipeline.defs.sensors.source_queue import source_queue_sensor
from f1_pipeline.defs.sensors.ticks import tick_failure_alert_sensor


def sensors_for(queue: bool) -> list[SensorDefinition]:
    """Uploads are seen through the bucket's event queue when one is configured, else by
    listing source-data/; the other sensors are the same either way."""
    uploads = source_queue_sensor if queue else source_data_sensor
    return [
        uploads,
        run_failure_alert_sensor,
        tick_failure_alert_sensor,
        freshness_alert_sensor,
        published_files_alert_sensor,
    ]
