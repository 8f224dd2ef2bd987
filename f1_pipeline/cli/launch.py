"""Running the pipeline in this process, through Dagster (``f1-pipeline run``).

A full run is two Dagster runs: ingest (raw + cleaned, which registers the
seasons present) and then season_stats over the requested seasons as one run.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    ExecuteInProcessResult,
)

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.core.steps.base import PROGRESS_PREFIX
from f1_pipeline.defs.assets.stats import SEASON_STATS
from f1_pipeline.defs.constants import ALL_ASSETS_JOB, SEASONS_PARTITIONS
from f1_pipeline.defs.failures import BAD_INPUT_METADATA
from f1_pipeline.defs.partitions import contiguous_ranges, range_tags


def _run_config(verbose: bool) -> dict:
    """Dagster's console logger prints step logs and failures with their stack traces: only
    with --verbose. The instance's event log (the UI) keeps everything either way."""
    level = "DEBUG" if verbose else "CRITICAL"
    return {"loggers": {"console": {"config": {"log_level": level}}}}


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
    skipped: list[str] = field(default_factory=list)  # seasons asked for, not in the data


def _failure_message(result: ExecuteInProcessResult, ui_url: str | None) -> str:
    """One short block: what is wrong, what that means for the outputs, where the log is."""
    problems, bad_input = [], False
    for event in result.all_events:
        if event.event_type == DagsterEventType.STEP_FAILURE:
            data = event.step_failure_data
            user = data.user_failure_data
            text = user.description if user else None
            flag = user.metadata.get(BAD_INPUT_METADATA) if user else None
            bad_input |= bool(flag is not None and flag.value)

            error = data.error
            while text is None and error is not None:
                text, error = (error.message.strip() if not error.cause else None), error.cause
            problems.append(f"  {text}")
    where = f"{ui_url}/runs/{result.run_id}" if ui_url else f"run {result.run_id}"
    if bad_input:
        head = "the upload was refused; nothing was published (previous outputs are unchanged):"
    else:
        head = f"run {result.run_id} failed:"
    lines = [head, *(problems or [f"  run {result.run_id} failed"])]
    lines.append(f"  full log: {where} (the Dagster UI: `make ui`; --verbose prints it here)")
    return "\n".join(lines)


@dataclass(frozen=True)
class Console:
    """How runs report to the terminal: Dagster's own logs only with ``verbose``; failures
    point at ``ui_url`` (the webserver) when given."""

    verbose: bool = False
    ui_url: str | None = None

    def runs(self, run_ids: Sequence[str]) -> str:
        """The runs, as UI links when the webserver is up."""
        if self.ui_url:
            return ", ".join(f"{self.ui_url}/runs/{r}" for r in run_ids)
        return f"run {', '.join(run_ids)}"


@contextmanager
def _progress(instance: DagsterInstance, run_id: str, console: Console) -> Iterator[None]:
    """Print the run's progress lines (its steps' phases and counts) while it runs, read
    from the run's event log every half second. With --verbose Dagster prints all logs."""
    if console.verbose:
        yield
        return
    finished = threading.Event()

    def follow() -> None:
        cursor = None
        while True:
            last = finished.wait(0.5)
            page = instance.get_records_for_run(run_id, cursor=cursor)
            cursor = page.cursor if page.records else cursor
            for record in page.records:
                entry = record.event_log_entry
                if entry.dagster_event is None and entry.user_message.startswith(PROGRESS_PREFIX):
                    print(f"    {entry.user_message[len(PROGRESS_PREFIX) :]}", flush=True)
            if last and not page.has_more:
                return

    thread = threading.Thread(target=follow, name="f1-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        finished.set()
        thread.join(timeout=10)


def _execute(
    defs: Definitions,
    instance: DagsterInstance,
    keys: Sequence[AssetKey],
    tags: dict,
    stage: StageResult,
    console: Console,
) -> None:
    run_id = str(uuid.uuid4())
    with _progress(instance, run_id, console):
        result = defs.resolve_job_def(ALL_ASSETS_JOB).execute_in_process(
            run_config=_run_config(console.verbose),
            instance=instance,
            asset_selection=list(keys),
            tags=tags,
            raise_on_error=False,
            run_id=run_id,
        )
    stage.run_ids.append(result.run_id)
    if not result.success:
        raise CommandError(_failure_message(result, console.ui_url))
    for event in result.get_asset_materialization_events():
        mat = event.materialization
        metadata = {k: v.value for k, v in mat.metadata.items()}
        stage.materialized.append(
            Materialized(result.run_id, mat.asset_key.to_user_string(), mat.partition, metadata)
        )


def ingest(
    defs: Definitions, instance: DagsterInstance, console: Console = Console()
) -> StageResult:
    """Materialise the raw and cleaned layers (registering season partitions)."""
    start, stage = time.monotonic(), StageResult()
    keys = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k != SEASON_STATS]
    _execute(defs, instance, keys, {}, stage, console)
    stage.seconds = time.monotonic() - start
    return stage


def publish_seasons(
    defs: Definitions,
    instance: DagsterInstance,
    seasons: Sequence[int],
    console: Console = Console(),
) -> StageResult:
    """Materialise season_stats for ``seasons``: one run per contiguous range of partitions
    (one run in the usual case), each a single Spark job over its seasons."""
    start, stage = time.monotonic(), StageResult()
    order = instance.get_dynamic_partitions(SEASONS_PARTITIONS)
    wanted = [str(s) for s in seasons]
    unknown = sorted(set(wanted) - set(order), key=int)
    if len(unknown) == len(wanted):
        raise CommandError(
            f"season(s) {', '.join(unknown)} are not in the data; seasons available: "
            f"{', '.join(sorted(order, key=int)) or 'none'}"
        )
    # A season the data no longer has is reported, never a reason to publish nothing.
    stage.skipped = unknown
    for first, last in contiguous_ranges(order, [s for s in wanted if s in order]):
        _execute(defs, instance, [SEASON_STATS], range_tags(first, last), stage, console)
    stage.seconds = time.monotonic() - start
    return stage
