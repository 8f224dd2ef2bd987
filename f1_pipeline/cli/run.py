"""``f1-pipeline run``: the upload into published seasons, as one Dagster run (the ingest, then
every season whose data or code changed; more runs only for --seasons that are not adjacent
partitions). In this process, or through the run queue when a daemon serves the home."""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING

from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.seasons import check_plausible, parse_seasons

if TYPE_CHECKING:
    from f1_pipeline.cli import launch

SEASON_LINES = 30  # more seasons than this are summarised in one line


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    run = commands.add_parser(
        "run",
        parents=parents,
        help="ingest the source CSVs and publish the seasons they changed (one run)",
    )
    run.add_argument(
        "--seasons", type=parse_seasons, help="only these seasons, e.g. 2023,2024 or 2018-2024"
    )
    run.add_argument(
        "--accept", metavar="UPLOAD", help="accept this held upload first (see `accept`)"
    )


def command(cli: Cli, args: argparse.Namespace) -> int:
    cli.spark_ahead()
    check_plausible(args.seasons, cli.step_runner.last_season())
    if args.accept:
        from f1_pipeline.cli.accept import accept_upload

        accept_upload(cli, args.accept.strip())
    return publish_command(cli, args.seasons, args.verbose)


def publish_command(
    cli: Cli, seasons: list[int] | None, verbose: bool, tags: dict[str, str] | None = None
) -> int:
    """The publish run(s) of ``seasons`` (all: None), with ``tags``, reported as they go."""
    # Imported here so `--help` and argument errors stay fast.
    from f1_pipeline.cli import launch
    from f1_pipeline.cli.errors import usage_error
    from f1_pipeline.cli.webserver import daemon_serves, webserver_up
    from f1_pipeline.core.upload import look
    from f1_pipeline.defs.constants import SOURCE_CHECKSUMS_TAG, TRIGGER_TAG

    started = time.monotonic()
    instance = cli.instance()
    # Runs are linked in the UI when its webserver is up (it shows this home's runs), and
    # submitted to its daemon's queue when a daemon serves the home.
    url = cli.dagster_url
    ui_url = url if webserver_up(url) else None
    queue = daemon_serves(instance)
    if queue and ui_url is None:
        raise usage_error(
            f"a Dagster daemon serves DAGSTER_HOME={cli.home}, and `f1-pipeline run` would run "
            "beside its queue: point F1_DAGSTER_URL at its webserver (runs are then submitted "
            "through it), or stop the daemon"
        )
    storage = cli.storage
    print(f"data root: {cli.step_runner.storage.data_root}\ndagster home: {cli.home}")
    plan = launch.plan(instance, storage, cli.step_runner.last_season(), seasons)
    how = "submitted to the daemon's queue" if queue else "in this process"
    span = f"{plan.ranges[0][0]}..{plan.ranges[-1][1]}" if plan.ranges else "(none found)"
    print(f"run: ingest + {plan.seasons} season(s) {span} ({how}) ...", flush=True)
    checksums = json.dumps(look(storage).files, sort_keys=True)
    tags = {TRIGGER_TAG: "cli", SOURCE_CHECKSUMS_TAG: checksums, **(tags or {})}
    console = launch.Console(verbose=verbose, ui_url=ui_url)
    queue_url = ui_url if queue else None
    result = launch.publish(cli.defs, instance, storage, plan, tags, console, queue_url)
    _report(cli, result, console, plan.skipped, started)
    return 0


def _report(
    cli: Cli,
    result: launch.RunResult,
    console: launch.Console,
    skipped: list[str],
    started: float,
) -> None:
    from f1_pipeline.core.steps.stats import RUN_TOTALS

    for m in (m for m in result.materialized if m.partition is None):
        rows = m.metadata.get("dagster/row_count", "?")
        note = " (unchanged)" if m.metadata.get("unchanged") else ""
        print(f"  {m.asset:<22} {rows:>8} rows{note}")
    seasons = sorted(
        (m for m in result.materialized if m.partition), key=lambda m: int(m.partition or 0)
    )
    # The run's totals ride on every season's event (a run of many seasons records no
    # per-season facts): added up over the runs.
    runs = {m.run_id: m.metadata for m in seasons}
    races, files, unchanged, withdrawn, kept = (
        sum(int(shared.get(k, 0)) for shared in runs.values()) for k in RUN_TOTALS
    )
    for m in seasons if len(seasons) <= SEASON_LINES else []:
        if m.metadata.get("withdrawn"):
            print(f"  season {m.partition}: withdrawn (accepted; its files kept out of view)")
        elif m.metadata.get("not_in_data"):
            print(f"  season {m.partition}: not in the data (its withdrawal was not accepted)")
        else:
            note = " (unchanged)" if m.metadata.get("unchanged") else ""
            rows = m.metadata.get("dagster/partition_row_count", 0)
            print(f"  season {m.partition}: {rows} races{note}")
    if len(seasons) > SEASON_LINES:
        print(f"  {len(seasons)} seasons, {races} races, {unchanged} unchanged")
    for season in skipped:
        print(f"  season {season}: not in the data (nothing to publish)")
    print(f"  done ({console.runs(result.run_ids)})")
    span = f"{seasons[0].partition}..{seasons[-1].partition}" if seasons else "none"
    root = cli.step_runner.storage.data_root.rstrip("/")
    print(
        f"summary: {len(seasons)} season(s) {span}, "
        f"{len(seasons) - unchanged - withdrawn - kept} rewritten, {unchanged} unchanged"
        + (f", {withdrawn} withdrawn" if withdrawn else "")
        + f", {files} files written under {root}/results, {races} races, "
        f"{time.monotonic() - started:.1f}s"
    )
