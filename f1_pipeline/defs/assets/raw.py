"""Raw layer: the provider's CSV uploads, exactly as received."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    DataVersion,
    MaterializeResult,
    asset,
)

from f1_pipeline.core.steps.metadata import object_metadata
from f1_pipeline.core.storage import layout
from f1_pipeline.defs.constants import RAW_GROUP
from f1_pipeline.defs.failures import failure_policy
from f1_pipeline.defs.metadata import to_dagster
from f1_pipeline.defs.resources import StorageResource

RAW_RACES = AssetKey(["source_data", "races"])
RAW_RESULTS = AssetKey(["source_data", "results"])

_DESCRIPTIONS = {
    "races": "races.csv as uploaded by the data provider (Ergast-derived): one row per race.",
    "results": "results.csv as uploaded by the data provider (Ergast-derived): one row per "
    "driver per race.",
}


def _source_csv_asset(asset_key: AssetKey, table: str) -> AssetsDefinition:
    @asset(key=asset_key, group_name=RAW_GROUP, description=_DESCRIPTIONS[table])
    def _source_csv(context: AssetExecutionContext, storage: StorageResource):
        store = storage.get()
        key = layout.source_csv(table)
        with failure_policy(context):
            info = store.info(key)
            data_lines = sum(1 for line in store.iter_lines(key) if line.strip()) - 1
        context.log.info(f"{store.uri(key)}: {info.size} bytes, {data_lines} data rows")
        return MaterializeResult(
            metadata={
                **to_dagster(object_metadata(store, info)),
                "dagster/row_count": max(data_lines, 0),
            },
            data_version=DataVersion(info.version),
        )

    return _source_csv


raw_races = _source_csv_asset(RAW_RACES, "races")
raw_results = _source_csv_asset(RAW_RESULTS, "results")

assets = [raw_races, raw_results]
