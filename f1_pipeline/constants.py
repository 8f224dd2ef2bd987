"""Names defined once: resource keys, asset groups, partitions, jobs."""

STORAGE_KEY = "storage"
SPARK_KEY = "spark"
ALERTS_KEY = "alerts"

RAW_GROUP = "raw"
CLEANED_GROUP = "cleaned"
STATS_GROUP = "stats"

SEASONS_PARTITIONS = "seasons"
ALL_ASSETS_JOB = "f1_job"
INGEST_JOB = "ingest_job"
SEASON_STATS_JOB = "season_stats_job"
