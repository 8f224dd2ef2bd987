"""Running the pipeline in this process, through Dagster (``f1-pipeline run``).

A full run is two Dagster runs: ingest (raw + cleaned, which registers the
seasons present) and then season_stats over the requested seasons as one run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
)

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.defs.assets.stats import SEASON_STATS
from f1_pipeline.defs.constants import ALL_ASSETS_JOB, SEASONS_PARTITIONS
from f1_pipeline.defs.partitions import contiguous_ranges, range_tags

# Step logs at INFO on the console; the instance's event log keeps everything.
_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}


@dataclass
class Materialized:
    run_id: str
    asset: str
    partition: str | None
    metadata: dict


@dataclass
class StageResult:
    run_ids: list[str] = field(default_factory=list)
    materialized: list[Materialized] = field(default_factory=list)
    seconds: float = 0.0


def _failure_message(result: ExecuteInProcessResult) -> str:
    messages = []
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            text = data.user_failure_data.description if data.user_failure_data else None
            error = data.error
            while text is None and error is not None:
                text, error = (error.message.strip() if not error.cause else None), error.cause
            messages.append(f"{event.step_key}: {text}")
    return "\n".join(messages) or f"run {result.run_id} failed"


def _execute(
    defs: Definitions,
    instance: DagsterInstance,
    keys: Sequence[AssetKey],
    tags: dict,
    stage: StageResult,
) -> None:
    result = defs.resolve_job_def(ALL_ASSETS_JOB).execute_in_process(
        run_config=_RUN_CONFIG,
        instance=instance,
        asset_selection=list(keys),
        tags=tags,
        raise_on_error=False,
    )
    stage.run_ids.append(result.run_id)
    if not result.success:
        raise CommandError(f"run failed:\n{_failure_message(result)}")
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        metadata = {k: v.value for k, v in mat.metadata.items()}
        stage.materialized.append(
            Materialized(result.run_id, mat.asset_key.to_user_string(), mat.partition, metadata)
        )


def ingest(defs: Definitions, instance: DagsterInstance) -> StageResult:
    """Materialise the raw and cleaned layers (registering season partitions)."""
    start, stage = time.monotonic(), StageResult()
    keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k != SEASON_STATS]
    _execute(defs, instance, keys, {}, stage)
    stage.seconds = time.monotonic() - start
    return stage


def publish_seasons(
    defs: Definitions, instance: DagsterInstance, seasons: Sequence[int]
) -> StageResult:
    """Materialise season_stats for ``seasons``: one run per contiguous range of partitions
    (one run in the usual case), each a single Spark job over its seasons."""
    start, stage = time.monotonic(), StageResult()
    order = instance.get_dynamic_partitions(SEASONS_PARTITIONS)
    wanted = [str(s) for s in seasons]
    unknown = sorted(set(wanted) - set(order))
    if unknown:
        raise CommandError(
            f"season(s) {', '.join(unknown)} are not in the data; seasons available: "
            f"{', '.join(sorted(order)) or 'none'}"
        )
    for first, last in contiguous_ranges(order, wanted):
        _execute(defs, instance, [SEASON_STATS], range_tags(first, last), stage)
    stage.seconds = time.monotonic() - start
    return stage
