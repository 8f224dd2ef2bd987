"""Everything Dagster: assets, checks, resources, partitions, jobs, sensors, the schedule,
the step runners and the instance template. Assembled by ``f1_pipeline.definitions``."""
