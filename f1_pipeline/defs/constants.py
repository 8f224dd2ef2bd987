"""Names defined once: resource keys, asset groups, partitions, jobs, run tags."""

STORAGE_KEY = "storage"
# Runs the Spark steps (locally or as Glue job runs): not a Spark session.
STEP_RUNNER_KEY = "step_runner"
ALERTS_KEY = "alerts"
UPLOAD_QUEUE_KEY = "upload_queue"  # only with F1_SOURCE_QUEUE_URL

RAW_GROUP = "raw"
CLEANED_GROUP = "cleaned"
STATS_GROUP = "stats"

SEASONS_PARTITIONS = "seasons"
ALL_ASSETS_JOB = "f1_job"
INGEST_JOB = "ingest_job"
SEASON_STATS_JOB = "season_stats_job"

# Run pools (Dagster concurrency, checked when a run leaves the queue): the ingest rewrites
# cleaned/, one at a time; season runs each write their own seasons' files, two at a time.
CLEANED_POOL = "cleaned_layer"
SEASONS_POOL = "season_stats"
POOL_LIMITS = {CLEANED_POOL: 1, SEASONS_POOL: 2}

# Run tags.
TRIGGER_TAG = "f1/trigger"  # what requested the run: a sensor, the schedule, the CLI
SOURCE_CHECKSUMS_TAG = "f1/source_checksums"  # the upload an ingest run was asked to read
SOURCE_VERSIONS_TAG = "f1/source_versions"  # its S3 VersionIds (none on a local root)
STALE_SEASONS_TAG = "f1/stale_seasons"  # the data state a stale-seasons run was asked for

# Sensors are evaluated at every round of Dagster's sensor daemon (a round every 5 s, its
# floor). A minimum interval equal to the round, 5 s, skipped every other round: a tick is
# stamped a little after its round starts, so one round later 5 s have not quite passed
# (measured: ticks every 10 s, an upload seen 5 s later on average instead of 2.5 s).
SENSOR_INTERVAL_SECONDS = 1
