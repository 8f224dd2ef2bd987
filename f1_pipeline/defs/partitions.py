"""Seasons are dynamic partitions: a season appearing in the data becomes a partition."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from dagster import DagsterInstance, DynamicPartitionsDefinition

from f1_pipeline.defs.constants import SEASONS_PARTITIONS

season_partitions = DynamicPartitionsDefinition(name=SEASONS_PARTITIONS)

# The run tags that make one run materialise a range of partitions (Dagster's own keys).
PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"


def range_tags(first: str, last: str) -> dict[str, str]:
    return {PARTITION_RANGE_START: first, PARTITION_RANGE_END: last}


def contiguous_ranges(order: Sequence[str], wanted: Sequence[str]) -> list[tuple[str, str]]:
    """Split ``wanted`` into runs of keys adjacent in the partition order ``order``."""
    index = {key: i for i, key in enumerate(order)}
    ranges: list[tuple[str, str]] = []
    for key in sorted(wanted, key=index.__getitem__):
        if ranges and index[key] == index[ranges[-1][1]] + 1:
            ranges[-1] = (ranges[-1][0], key)
        else:
            ranges.append((key, key))
    return ranges


def register_seasons(
    instance: DagsterInstance, seasons: Iterable[int | str], gone: Iterable[str] = ()
) -> tuple[list[str], list[str]]:
    """The one place seasons become partitions: add the ``seasons`` that are not partitions
    yet (oldest first) and remove ``gone`` (withdrawn seasons: their history stays). Returns
    the partitions in Dagster's order (registration order) and the keys added."""
    existing = instance.get_dynamic_partitions(SEASONS_PARTITIONS)
    new = [str(s) for s in sorted({int(s) for s in seasons}) if str(s) not in existing]
    removed = [s for s in gone if s in existing]
    if new:
        instance.add_dynamic_partitions(SEASONS_PARTITIONS, new)
    for key in removed:
        instance.delete_dynamic_partition(SEASONS_PARTITIONS, key)
    return [*[s for s in existing if s not in removed], *new], new
