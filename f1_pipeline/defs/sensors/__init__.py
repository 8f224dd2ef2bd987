"""Sensors: uploads start the ingest; changed seasons get republished."""

from f1_pipeline.defs.sensors.run_failure import run_failure_alert_sensor
from f1_pipeline.defs.sensors.source_data import source_data_sensor
from f1_pipeline.defs.sensors.stale_seasons import stale_seasons_sensor

sensors = [source_data_sensor, stale_seasons_sensor, run_failure_alert_sensor]
