"""Raw layer: the provider's CSV uploads, exactly as received.

Dagster does not produce them, so they are external assets (``AssetSpec``s): their
materialisations are the uploads, reported by whatever sees one (the upload sensors, the
CLI) with the object's size, checksum, version and a data version, so the catalog shows
which upload each cleaned table was built from.
"""

from __future__ import annotations

from dagster import AssetKey, AssetMaterialization, AssetSpec, DagsterInstance, DataVersion

from f1_pipeline.core.steps.metadata import object_metadata
from f1_pipeline.core.storage import Storage, layout
from f1_pipeline.defs.constants import RAW_GROUP
from f1_pipeline.defs.metadata import to_dagster

RAW_RACES = AssetKey(["source_data", "races"])
RAW_RESULTS = AssetKey(["source_data", "results"])
RAW_KEYS = {"races": RAW_RACES, "results": RAW_RESULTS}

raw_races = AssetSpec(
    RAW_RACES,
    group_name=RAW_GROUP,
    description="races.csv as uploaded by the data provider (Ergast-derived): one row per race.",
)
raw_results = AssetSpec(
    RAW_RESULTS,
    group_name=RAW_GROUP,
    description="results.csv as uploaded by the data provider (Ergast-derived): one row per "
    "driver per race.",
)

assets = [raw_races, raw_results]


def source_events(storage: Storage, files: dict[str, str]) -> list[AssetMaterialization]:
    """The uploads of ``files`` (source key -> checksum) as materialisations of the raw
    assets: where each object is, which version, and its data version."""
    events = []
    for table, asset_key in RAW_KEYS.items():
        key = layout.source_csv(table)
        info = storage.find(key) if key in files else None
        if info is None:
            continue
        events.append(
            AssetMaterialization(
                asset_key=asset_key,
                metadata=to_dagster(object_metadata(storage, info)),
                tags={"dagster/data_version": DataVersion(info.version).value},
            )
        )
    return events


def report_new_uploads(instance: DagsterInstance, storage: Storage, files: dict[str, str]) -> int:
    """Report the uploads of ``files`` the catalog does not show yet (outside any run, as the
    sensors do through their results); how many were reported."""
    reported = 0
    for event in source_events(storage, files):
        latest = instance.get_latest_materialization_event(event.asset_key)
        shown = latest.asset_materialization if latest else None
        old = shown.metadata.get("checksum") if shown else None
        if old is None or old.value != event.metadata["checksum"].value:
            instance.report_runless_asset_event(event)
            reported += 1
    return reported
