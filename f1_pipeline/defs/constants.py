"""Names defined once: resource keys, asset groups, partitions, jobs, pools, run tags."""

STORAGE_KEY = "storage"
# Runs the Spark steps (locally or as Glue job runs): not a Spark session.
STEP_RUNNER_KEY = "step_runner"
ALERTS_KEY = "alerts"
UPLOAD_QUEUE_KEY = "upload_queue"  # only with F1_SOURCE_QUEUE_URL
CATALOG_KEY = "catalog"  # the Glue Data Catalog (F1_GLUE_DATABASE; without it, a no-op)
FRESHNESS_KEY = "freshness"  # the results-freshness check's patience

RAW_GROUP = "raw"
CLEANED_GROUP = "cleaned"
STATS_GROUP = "stats"

SEASONS_PARTITIONS = "seasons"
# The run that turns an upload into published seasons: the ingest and the season stats.
PUBLISH_JOB = "f1_job"
FRESHNESS_JOB = "freshness_check_job"
AGREEMENT_JOB = "published_files_check_job"

# Concurrency pools, one per output, at op granularity (defs/instance/dagster.yaml): the
# step writing an output claims its pool's only slot wherever it runs — a run the daemon
# launched, the CLI, `dagster asset materialize`, `dg launch` — so two runs never write the
# same outputs at once.
CLEANED_POOL = "cleaned_layer"
SEASONS_POOL = "season_stats"
POOL_LIMITS = {CLEANED_POOL: 1, SEASONS_POOL: 1}

# Run tags.
TRIGGER_TAG = "f1/trigger"  # what requested the run: a sensor, the schedule, the CLI
SOURCE_CHECKSUMS_TAG = "f1/source_checksums"  # the upload a run was asked to read
SOURCE_VERSIONS_TAG = "f1/source_versions"  # its S3 VersionIds (none on a local root)
STATE_TAG = "f1/state"  # the state of data and code a sensor's run was requested for
ACCEPT_TAG = "f1/accept"  # the held upload (its id) a run is told to accept
ROLLBACK_TAG = "f1/rollback"  # the accepted upload (its id) a run makes current again
REQUESTED_BY_TAG = "f1/requested_by"  # who asked, from where (the CLI's user and host)
CHECK_TIME_TAG = "f1/check_time"  # the clock a checks-only run evaluates freshness at

# Dagster's own run tags we read or set.
RETRY_NUMBER_TAG = "dagster/retry_number"

# Sensors are evaluated at every round of Dagster's sensor daemon (a round every 5 s, its
# floor). A minimum interval equal to the round, 5 s, skipped every other round: a tick is
# stamped a little after its round starts, so one round later 5 s have not quite passed
# (measured: ticks every 10 s, an upload seen 5 s later on average instead of 2.5 s).
SENSOR_INTERVAL_SECONDS = 1

# Runs over up to this many seasons carry each season's own metadata on its event (Dagster's
# add_asset_metadata, whose cost grows with the square of the seasons: 200 covers every real
# export, ~75 seasons); above it, the seasons' events carry Dagster's own record and the
# run's metadata points at the manifest, which has every season's facts.
PER_SEASON_METADATA_MAX = 200
