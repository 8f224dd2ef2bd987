"""``f1-pipeline backfill``: one season backfill through the running Dagster (`make ui`)."""

from __future__ import annotations

import argparse
import time

from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.seasons import check_plausible, parse_seasons


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    backfill = commands.add_parser(
        "backfill",
        parents=parents,
        help="backfill seasons through the running Dagster (`make ui`): one backfill, one run",
    )
    backfill.add_argument(
        "--seasons", type=parse_seasons, required=True, help="e.g. 2018-2024 or 2023,2024"
    )
    backfill.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait")


def command(cli: Cli, args: argparse.Namespace) -> int:
    from f1_pipeline.cli import webserver as client
    from f1_pipeline.defs.constants import TRIGGER_TAG

    check_plausible(args.seasons, cli.step_runner.last_season())
    url, wanted = cli.dagster_url, [str(s) for s in args.seasons]
    available = client.season_partitions(url)  # first: says when no webserver answers
    if not client.daemon_serves(cli.instance()):
        raise CommandError(
            f"DAGSTER_HOME={cli.home} has no running daemon to execute backfills (start both "
            "with `make ui`, or `dagster-daemon run` beside the webserver)"
        )
    unknown = [s for s in wanted if s not in available]
    if unknown:
        raise CommandError(
            f"season(s) {', '.join(unknown)} are not partitions yet (available: "
            f"{', '.join(available) or 'none'}); upload or ingest their data first"
        )
    started = time.monotonic()
    tags = {TRIGGER_TAG: "cli-backfill"}
    backfill_id = client.launch_season_backfill(url, wanted, tags)
    print(f"backfill {backfill_id}: {len(wanted)} season(s), one run — {url}/runs/b/{backfill_id}")
    published: set[str] = set()
    while True:
        progress = client.backfill_progress(url, backfill_id, wanted)
        for season in sorted(progress["materialized"] - published, key=int):
            print(f"  season {season}: published", flush=True)
        published |= progress["materialized"]
        if progress["status"] in client.TERMINAL:
            break
        if time.monotonic() - started > args.timeout:
            raise CommandError(f"backfill {backfill_id} still running after {args.timeout:.0f}s")
        time.sleep(2)
    runs = ", ".join(f"{r['runId']} {r['status']}" for r in progress["runs"])
    print(
        f"summary: backfill {backfill_id} {progress['status']}: {len(published)}/{len(wanted)} "
        f"season(s) published, runs: {runs or 'none'}, {time.monotonic() - started:.1f}s"
    )
    for run in progress["runs"]:
        if run["status"] == "FAILURE":
            for line in client.run_failures(url, run["runId"]):
                print(f"  run {run['runId']} failed: {line}")
    ok = progress["status"] in ("COMPLETED", "COMPLETED_SUCCESS") and published == set(wanted)
    return 0 if ok else 1
