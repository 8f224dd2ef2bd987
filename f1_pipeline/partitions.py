"""Seasons are dynamic partitions: a season appearing in the data becomes a partition."""

from __future__ import annotations

from collections.abc import Iterable

from dagster import DagsterInstance, DynamicPartitionsDefinition

from f1_pipeline.constants import SEASONS_PARTITIONS

season_partitions = DynamicPartitionsDefinition(name=SEASONS_PARTITIONS)


def register_seasons(instance: DagsterInstance, seasons: Iterable[int]) -> list[str]:
    """Add the seasons that are not partitions yet, oldest first; return the added keys."""
    existing = set(instance.get_dynamic_partitions(SEASONS_PARTITIONS))
    new = [str(s) for s in sorted(set(seasons)) if str(s) not in existing]
    if new:
        instance.add_dynamic_partitions(SEASONS_PARTITIONS, new)
    return new
