"""The batching SQLite event log stores what Dagster's own SQLite event log stores."""

# No `from __future__ import annotations`: Dagster reads the context annotation.

import dagster as dg
import pytest

from f1_pipeline.defs.instance import prepare_home
from f1_pipeline.defs.instance.event_log import BatchingSqliteEventLogStorage

KEYS = [str(season) for season in range(1950, 2000)]
seasons = dg.StaticPartitionsDefinition(KEYS)


@dg.asset(partitions_def=seasons, backfill_policy=dg.BackfillPolicy.single_run())
def stats(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    for key in context.partition_keys:
        context.add_asset_metadata({"season": int(key)}, partition_key=key)
    return dg.MaterializeResult(metadata={"seasons_in_run": len(context.partition_keys)})


def _materialise(home, monkeypatch, batch_size: str | None) -> dict:
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    if batch_size:
        monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", batch_size)
    else:
        monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        tags = {"dagster/asset_partition_range_start": KEYS[0],
                "dagster/asset_partition_range_end": KEYS[-1]}  # fmt: skip
        assert dg.materialize([stats], instance=instance, tags=tags).success
        storage = instance.event_log_storage
        key = stats.key
        records = instance.fetch_materializations(key, limit=1000).records
        planned = instance.get_event_records(
            dg.EventRecordsFilter(dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED, key)
        )
        return {
            "storage": type(storage),
            "materialised": sorted(r.partition_key for r in records),
            "metadata": sorted(
                (
                    r.partition_key,
                    r.asset_materialization.metadata["season"].value,
                    r.asset_materialization.metadata["seasons_in_run"].value,
                )
                for r in records
            ),
            "planned": sorted(r.partition_key for r in planned),
            "partitions": sorted(instance.get_materialized_partitions(key)),
            "latest_run": instance.get_latest_materialization_event(key).run_id
            == records[0].run_id,
            "by_tag": len(
                instance.get_event_records(
                    dg.EventRecordsFilter(
                        dg.DagsterEventType.ASSET_MATERIALIZATION,
                        key,
                        asset_partitions=["1975"],
                    )
                )
            ),
        }


@pytest.mark.parametrize("batch_size", ["7", "1000"])
def test_batched_writes_store_what_dagster_stores(tmp_path, monkeypatch, batch_size):
    ours = _materialise(prepare_home(tmp_path / "ours"), monkeypatch, batch_size)
    (tmp_path / "dagster").mkdir()
    theirs = _materialise(tmp_path / "dagster", monkeypatch, None)
    assert ours.pop("storage") is BatchingSqliteEventLogStorage
    assert theirs.pop("storage") is not BatchingSqliteEventLogStorage
    assert ours == theirs
    assert ours["materialised"] == KEYS
    assert ours["planned"] == KEYS
    assert ours["metadata"][0] == ("1950", 1950, len(KEYS))
    assert ours["by_tag"] == 1
    assert ours["latest_run"]
