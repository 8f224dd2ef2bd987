"""Per-partition metadata of a many-partition run lands on each partition's own event."""

# No `from __future__ import annotations`: Dagster reads the context annotation.

import dagster as dg
import pytest

from f1_pipeline.defs.metadata import add_partition_metadata

KEYS = ["2022", "2023", "2024"]
seasons = dg.StaticPartitionsDefinition(KEYS)


@dg.asset(partitions_def=seasons, backfill_policy=dg.BackfillPolicy.single_run())
def stats(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    extra = context.run.tags.get("extra_key")
    by_partition = {key: {"dagster/row_count": int(key) - 2000} for key in context.partition_keys}
    if extra:
        by_partition[extra] = {"dagster/row_count": 0}
    add_partition_metadata(context, by_partition)
    return dg.MaterializeResult(metadata={"run_season_count": len(context.partition_keys)})


RANGE = {"dagster/asset_partition_range_start": "2022", "dagster/asset_partition_range_end": "2024"}


def test_each_partition_event_has_its_own_metadata_and_the_runs():
    with dg.instance_for_test() as instance:
        assert dg.materialize([stats], instance=instance, tags=RANGE).success
        records = instance.fetch_materializations(stats.key, limit=10).records
        got = {
            r.partition_key: (
                r.asset_materialization.metadata["dagster/row_count"].value,
                r.asset_materialization.metadata["run_season_count"].value,
            )
            for r in records
        }
    assert got == {"2022": (22, 3), "2023": (23, 3), "2024": (24, 3)}


def test_metadata_for_a_partition_the_run_does_not_target_is_refused():
    with dg.instance_for_test() as instance:
        tags = {**RANGE, "dagster/asset_partition_range_start": "2023", "extra_key": "2022"}
        with pytest.raises(ValueError, match=r"does not target: \['2022'\]"):
            dg.materialize([stats], instance=instance, tags=tags)
