"""Republish the seasons whose cleaned data changed, and only those.

After an ingest, ``cleaned/_season_fingerprints.json`` holds a content fingerprint
per season; ``results/_manifest.json`` holds the fingerprint each published season
was computed from. The seasons where they differ (or that were never published)
are stale: one run materialises them all (a contiguous range of partitions; more
runs only if the stale seasons are not adjacent in partition order).
"""

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from f1_pipeline.core.lineage import read_json, stale_seasons
from f1_pipeline.core.storage import ObjectNotFound, layout
from f1_pipeline.defs.constants import SEASONS_PARTITIONS, STALE_SEASONS_TAG, TRIGGER_TAG
from f1_pipeline.defs.jobs import season_stats_job
from f1_pipeline.defs.partitions import contiguous_ranges, range_tags
from f1_pipeline.defs.resources import StorageResource
from f1_pipeline.defs.sensors.runs import PUBLISH_JOBS, runs_in_flight

INTERVAL_SECONDS = 5


def season_run_requests(order: list[str], stale: list[str], tags: dict) -> list[RunRequest]:
    requests = []
    for first, last in contiguous_ranges(order, stale):
        if first == last:
            requests.append(RunRequest(partition_key=first, tags=tags))
        else:
            requests.append(RunRequest(tags={**tags, **range_tags(first, last)}))
    return requests


@sensor(
    job=season_stats_job,
    minimum_interval_seconds=INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
    description="After an ingest, materialises the season_stats partitions whose data "
    "changed (per-season fingerprints vs results/_manifest.json), as one run.",
)
def stale_seasons_sensor(context: SensorEvaluationContext, storage: StorageResource):
    store = storage.get()
    if runs_in_flight(context.instance, PUBLISH_JOBS):
        return SkipReason("an ingest or season run is in progress")
    try:
        fingerprints_version = store.info(layout.season_fingerprints()).checksum
    except ObjectNotFound:
        return SkipReason("no cleaned data yet")
    if context.cursor == fingerprints_version:
        return SkipReason("seasons already requested for the current cleaned data")
    fingerprints = read_json(store, layout.season_fingerprints()) or {}
    manifest = read_json(store, layout.manifest()) or {}
    order = context.instance.get_dynamic_partitions(SEASONS_PARTITIONS)
    stale = [s for s in stale_seasons(fingerprints.get("seasons", {}), manifest) if s in order]
    if not stale:
        return SensorResult(
            skip_reason=SkipReason("every season is up to date"), cursor=fingerprints_version
        )
    context.log.info(f"stale seasons: {', '.join(stale)}")
    tags = {TRIGGER_TAG: "stale_seasons_sensor", STALE_SEASONS_TAG: ",".join(stale)[:4000]}
    return SensorResult(
        run_requests=season_run_requests(list(order), stale, tags), cursor=fingerprints_version
    )
