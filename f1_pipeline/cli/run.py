"""``f1-pipeline run``: ingest, then every season's stats, in this process through Dagster."""

from __future__ import annotations

import argparse
import time

from f1_pipeline.cli.seasons import check_plausible, parse_seasons
from f1_pipeline.settings import Settings

SEASON_LINES = 30  # more seasons than this are summarised in one line


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    run = commands.add_parser(
        "run",
        parents=parents,
        help="ingest the source CSVs and publish per-season stats (all seasons by default)",
    )
    run.add_argument(
        "--seasons", type=parse_seasons, help="only these seasons, e.g. 2023,2024 or 2018-2024"
    )


def command(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here so `--help` and argument errors stay fast.
    from f1_pipeline.cli import launch
    from f1_pipeline.cli.backfill_client import webserver_up
    from f1_pipeline.cli.errors import CommandError
    from f1_pipeline.core.lineage import read_commit, read_json, vanished_seasons
    from f1_pipeline.core.storage import layout
    from f1_pipeline.definitions import build_definitions
    from f1_pipeline.defs.instance import open_instance
    from f1_pipeline.defs.resources import storage_resource

    check_plausible(args.seasons, settings.last_plausible_season)
    started = time.monotonic()
    # Runs are linked in the UI when its webserver is up (it shows this Dagster home's runs).
    ui_url = settings.dagster_url if webserver_up(settings.dagster_url) else None
    console = launch.Console(verbose=args.verbose, ui_url=ui_url)
    if settings.spark_mode == "local":
        _choose_engine(settings, args.verbose)
    instance = open_instance(settings.dagster_home, settings.dagster_storage)
    defs = build_definitions(settings)
    storage = storage_resource(settings).get()
    print(f"data root: {settings.data_root}\ndagster home: {settings.dagster_home}")

    print("[1/2] ingest: raw + cleaned layers ...", flush=True)
    ingest = launch.ingest(defs, instance, console)
    for m in ingest.materialized:
        rows = m.metadata.get("dagster/row_count", "?")
        print(f"  {m.asset:<22} {rows:>8} rows")
    print(f"  done in {ingest.seconds:.1f}s ({console.runs(ingest.run_ids)})")

    # The seasons in the data just ingested, and any published season it no longer has.
    commit = read_commit(storage) or {}
    in_data = commit.get("seasons", {})
    vanished = vanished_seasons(in_data, read_json(storage, layout.manifest()) or {})
    targets = args.seasons or sorted({*map(int, in_data), *map(int, vanished)})
    if not targets:
        raise CommandError("the upload holds no seasons: nothing to publish")
    print(f"[2/2] season stats: {len(targets)} season(s) in one Spark job ...", flush=True)
    stats = launch.publish_seasons(defs, instance, targets, console)
    # Each season partition's event carries that season's own counts.
    seasons = sorted(stats.materialized, key=lambda m: int(m.partition or 0))
    races = sum(m.metadata.get("dagster/row_count", 0) for m in seasons)
    files = sum(m.metadata.get("file_count", 0) for m in seasons)
    for m in seasons if len(seasons) <= SEASON_LINES else []:
        if m.metadata.get("withdrawn"):
            print(f"  season {m.partition}: withdrawn (no races in the data; its files removed)")
        else:
            print(f"  season {m.partition}: {m.metadata['dagster/row_count']} races")
    if len(seasons) > SEASON_LINES:
        withdrawn = sum(1 for m in seasons if m.metadata.get("withdrawn"))
        print(f"  {len(seasons)} seasons, {races} races, {withdrawn} withdrawn")
    for season in stats.skipped:
        print(f"  season {season}: not in the data (nothing to publish)")
    print(f"  done in {stats.seconds:.1f}s ({console.runs(stats.run_ids)})")

    print(
        f"summary: {len(targets)} season(s) {targets[0]}..{targets[-1]}, {files} files "
        f"written under {str(settings.data_root).rstrip('/')}/results, {races} races, "
        f"{time.monotonic() - started:.1f}s"
    )
    return 0


def _choose_engine(settings: Settings, verbose: bool) -> None:
    """Say which Spark the runs use: the warm Connect server when one runs, else an embedded
    session, started here with the JVM's own notices going to a log file rather than the
    terminal (--verbose: to the terminal); the steps reuse it."""
    from f1_pipeline.core.engine import running_server
    from f1_pipeline.core.spark import local_session, spark_config

    url = settings.spark_remote
    if url is None and (server := running_server(settings.dagster_home)) is not None:
        url = server.url
    if url:
        print(f"spark: the Connect server at {url} (warm)")
        return
    print("spark: embedded session (cold start; `f1-pipeline spark start` keeps one warm)")
    jvm_log = None if verbose else settings.dagster_home / "logs" / "spark-jvm.log"
    local_session(spark_config(settings.spark_master), jvm_log=jvm_log)
