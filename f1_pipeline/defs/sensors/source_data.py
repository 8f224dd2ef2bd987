"""Start the ingest when the provider uploads a new or changed source CSV.

The cursor holds each source object's checksum (S3 ETag, local sha256), never a
time: an object written in the same second as the last one seen is still
noticed (S3's LastModified has 1-second resolution, which defeats a time cursor),
an identical re-upload changes nothing, and the cursor stays the size of the
handful of source keys however many uploads happen.
"""

import json
from dataclasses import asdict, dataclass, field

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from f1_pipeline.core.storage import layout
from f1_pipeline.defs.constants import SOURCE_CHECKSUMS_TAG, TRIGGER_TAG
from f1_pipeline.defs.jobs import ingest_job
from f1_pipeline.defs.resources import StorageResource
from f1_pipeline.defs.sensors.runs import INGEST_JOBS, runs_in_flight

SOURCE_KEYS = tuple(layout.source_csv(t) for t in layout.SOURCE_TABLES)
INTERVAL_SECONDS = 5


@dataclass
class SourceCursor:
    ingested: dict[str, str] = field(default_factory=dict)  # key -> checksum last ingested
    pending: dict[str, str] | None = None  # a changed listing waiting to settle

    @classmethod
    def load(cls, text: str | None) -> "SourceCursor":
        return cls(**json.loads(text)) if text else cls()

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def decide(
    listing: dict[str, str], cursor: SourceCursor, ingest_running: bool
) -> tuple[bool, str, SourceCursor]:
    """(launch?, reason, next cursor) for the current source listing.

    A change launches once the listing has been the same for two ticks, so a burst of
    uploads (races.csv, then results.csv a second later) becomes one ingest, and never
    while another ingest is running: it is picked up when that one ends.
    """
    changed = sorted(k for k, v in listing.items() if cursor.ingested.get(k) != v)
    if not changed:
        return False, "no new or changed source files", SourceCursor(cursor.ingested)
    if ingest_running:
        return False, f"{', '.join(changed)} changed; waiting for the running ingest", cursor
    if cursor.pending != listing:
        reason = f"{', '.join(changed)} changed; waiting one tick for the upload to settle"
        return False, reason, SourceCursor(cursor.ingested, listing)
    return True, f"ingesting {', '.join(changed)}", SourceCursor(dict(listing))


@sensor(
    job=ingest_job,
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="Watches source-data/ (S3 or the local root) and starts the ingest on a new "
    "or changed races.csv / results.csv. One ingest at a time; bursts coalesce.",
)
def source_data_sensor(context: SensorEvaluationContext, storage: StorageResource):
    store = storage.get()
    listing = {o.key: o.checksum for o in store.list(layout.SOURCE_PREFIX) if o.key in SOURCE_KEYS}
    cursor = SourceCursor.load(context.cursor)
    running = bool(runs_in_flight(context.instance, INGEST_JOBS))
    launch, reason, next_cursor = decide(listing, cursor, running)
    context.log.info(reason)
    if not launch:
        return SensorResult(skip_reason=SkipReason(reason), cursor=next_cursor.dump())
    tags = {TRIGGER_TAG: "source_data_sensor", SOURCE_CHECKSUMS_TAG: json.dumps(listing)}
    return SensorResult(run_requests=[RunRequest(tags=tags)], cursor=next_cursor.dump())
