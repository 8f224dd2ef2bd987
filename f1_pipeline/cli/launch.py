"""Running the publish job for ``f1-pipeline run``: in this process through Dagster, or, when
a Dagster daemon serves the home, submitted to its run queue through the webserver and
followed from here. Either way one upload is one run (the ingest, then the season stats
over a range of season partitions), and its progress lines are printed as they come.
"""

from __future__ import annotations

import os
import socket
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
    RunsFilter,
)

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.core.lineage import read_commit
from f1_pipeline.core.processes import process_start
from f1_pipeline.core.steps.base import PROGRESS_PREFIX
from f1_pipeline.core.storage import Storage
from f1_pipeline.core.upload import look, peek_seasons
from f1_pipeline.defs.assets.raw import report_new_uploads
from f1_pipeline.defs.assets.stats import SEASON_STATS
from f1_pipeline.defs.constants import PUBLISH_JOB
from f1_pipeline.defs.jobs import PUBLISHED_ASSETS
from f1_pipeline.defs.partitions import contiguous_ranges, range_tags, register_seasons
from f1_pipeline.defs.sensors.runs import IN_FLIGHT, step_failures


@dataclass
class Materialized:
    run_id: str
    asset: str
    partition: str | None
    metadata: dict


@dataclass
class RunResult:
    run_ids: list[str] = field(default_factory=list)
    materialized: list[Materialized] = field(default_factory=list)


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


def failure_message(instance: DagsterInstance, run_id: str, ui_url: str | None) -> str:
    """One short block: what is wrong, what that means for the outputs, where the log is."""
    failures = step_failures(instance, run_id)
    problems = [f"  {f.text}" for f in failures]
    held = any(f.held for f in failures)
    refused = held or any(f.refused for f in failures)
    where = f"{ui_url}/runs/{run_id}" if ui_url else f"run {run_id}"
    if held:
        head = "the upload was held; nothing was published (previous outputs are unchanged):"
    elif refused:
        head = "the upload was refused; nothing was published (previous outputs are unchanged):"
    else:
        head = f"run {run_id} failed:"
    lines = [head, *(problems or [f"  run {run_id} failed"])]
    lines.append(f"  full log: {where} (the Dagster UI: `make ui`; --verbose prints it here)")
    return "\n".join(lines)


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


def _collect(
    instance: DagsterInstance, run_id: str, ok: bool, ui_url: str | None, result: RunResult
) -> None:
    """The run's materialisations into ``result``; a CommandError saying why if not ``ok``."""
    result.run_ids.append(run_id)
    if not ok:
        raise CommandError(failure_message(instance, run_id, ui_url))
    for record in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION):
        event = record.dagster_event
        mat = event.step_materialization_data.materialization if event else None
        if mat is None:
            continue
        metadata = {k: v.value for k, v in mat.metadata.items()}
        result.materialized.append(
            Materialized(run_id, mat.asset_key.to_user_string(), mat.partition, metadata)
        )


# The process an in-process run runs in: a later command can tell that run is dead (its
# process gone), fail it and free its pool slots (the daemon's run monitoring does this for
# the runs it launched; nothing does for a command that was killed).
PROCESS_TAG = "f1/process"


def _this_process() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_start(pid)}"


def reap_dead_runs(instance: DagsterInstance) -> list[str]:
    """Fail the in-process runs of this host whose process is gone, and free their pool
    slots; their ids."""
    host = socket.gethostname()
    reaped = []
    for run in instance.get_runs(RunsFilter(statuses=IN_FLIGHT), limit=50):
        owner = run.tags.get(PROCESS_TAG, "")
        name, _, rest = owner.partition(":")
        pid, _, start = rest.partition(":")
        if name != host or not pid.isdigit() or str(process_start(int(pid))) == start:
            continue
        instance.report_run_failed(run, "its process ended without finishing the run")
        if instance.event_log_storage.supports_global_concurrency_limits:
            instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        reaped.append(run.run_id)
    return reaped


def execute(
    defs: Definitions,
    instance: DagsterInstance,
    assets: Sequence[AssetKey],
    tags: dict[str, str],
    console: Console,
    result: RunResult,
) -> None:
    """One run of the publish job's ``assets`` in this process."""
    run_id = str(uuid.uuid4())
    tags = {**tags, PROCESS_TAG: _this_process()}
    # Dagster's console logger prints step logs and failures with their stack traces: only
    # with --verbose. The instance's event log (the UI) keeps everything either way.
    level = "DEBUG" if console.verbose else "CRITICAL"
    with _progress(instance, run_id, console):
        done = defs.resolve_job_def(PUBLISH_JOB).execute_in_process(
            run_config={"loggers": {"console": {"config": {"log_level": level}}}},
            instance=instance,
            asset_selection=list(assets),
            tags=tags,
            raise_on_error=False,
            run_id=run_id,
        )
    _collect(instance, run_id, done.success, console.ui_url, result)


def submit(
    url: str,
    instance: DagsterInstance,
    assets: Sequence[AssetKey],
    tags: dict[str, str],
    console: Console,
    result: RunResult,
    timeout: float = 3600.0,
) -> None:
    """One run of the publish job's ``assets``, submitted to the run queue the daemon serves
    (through the webserver at ``url``) and followed until it ends."""
    from f1_pipeline.cli import webserver

    run_id = webserver.submit_run(url, PUBLISH_JOB, assets, tags)
    print(f"    queued as {url}/runs/{run_id} (the daemon runs it)", flush=True)
    deadline = time.monotonic() + timeout
    with _progress(instance, run_id, console):
        while True:
            run = instance.get_run_by_id(run_id)
            if run is not None and run.is_finished:
                break
            if time.monotonic() > deadline:
                raise CommandError(f"run {run_id} still running after {timeout:.0f}s")
            time.sleep(0.25)
    _collect(instance, run_id, run.is_success, url, result)


PUBLISH_ASSETS = sorted(PUBLISHED_ASSETS, key=lambda k: k.to_user_string())
CLEANED_ONLY = [k for k in PUBLISH_ASSETS if k != SEASON_STATS]
STATS_ONLY = [SEASON_STATS]


@dataclass(frozen=True)
class Plan:
    """What one `run` does: the season ranges (one run each, the first with the ingest), and
    the seasons asked for that are not in the data."""

    ranges: list[tuple[str, str]]
    seasons: int
    skipped: list[str]


def plan(
    instance: DagsterInstance, storage: Storage, latest: int, wanted: Sequence[int] | None
) -> Plan:
    """Register the seasons the upload and the cleaned layer hold as partitions, and split
    the runs: every season partition (one run), or ``wanted`` (a run per adjacent range)."""
    seasons = {
        *peek_seasons(storage, latest),
        *(commit.season_list() if (commit := read_commit(storage)) else []),
    }
    order, _ = register_seasons(instance, seasons)
    if not order:  # the ingest alone: it says what is wrong with the upload
        return Plan([], 0, [str(s) for s in wanted or []])
    if wanted is None:
        return Plan([(order[0], order[-1])], len(order), [])
    keys = [str(s) for s in wanted]
    ranges = contiguous_ranges(order, [s for s in keys if s in order])
    if not ranges:
        raise CommandError(
            f"season(s) {', '.join(keys)} are not in the data; seasons available: "
            f"{', '.join(sorted(order, key=int))}"
        )
    return Plan(ranges, sum(1 for s in keys if s in order), [s for s in keys if s not in order])


def publish(
    defs: Definitions,
    instance: DagsterInstance,
    storage: Storage,
    plan_: Plan,
    tags: dict[str, str],
    console: Console = Console(),
    queue_url: str | None = None,
) -> RunResult:
    """The runs of ``plan_``: the first ingests and publishes its range, the others (only for
    seasons that are not adjacent partitions) publish theirs; in this process, or submitted to
    the daemon's queue through the webserver at ``queue_url``."""
    report_new_uploads(instance, storage, look(storage).files)
    for run_id in reap_dead_runs(instance):
        print(f"    run {run_id} had lost its process: marked failed, its slots freed")
    result = RunResult()
    if not plan_.ranges:
        execute(defs, instance, CLEANED_ONLY, tags, console, result)
        raise CommandError("the upload holds no seasons: nothing to publish")
    for n, (first, last) in enumerate(plan_.ranges):
        assets = PUBLISH_ASSETS if n == 0 else STATS_ONLY
        run_tags = {**tags, **range_tags(first, last)}
        if queue_url:
            submit(queue_url, instance, assets, run_tags, console, result)
        else:
            execute(defs, instance, assets, run_tags, console, result)
    return result


def ingest(defs: Definitions, instance: DagsterInstance, console: Console = Console()) -> RunResult:
    """The cleaned layer alone (as a UI Materialize of the cleaned tables does)."""
    result = RunResult()
    execute(defs, instance, CLEANED_ONLY, {}, console, result)
    return result
