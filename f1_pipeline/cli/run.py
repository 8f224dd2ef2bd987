"""``f1-pipeline run``: ingest, then every season's stats, in this process through Dagster."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from f1_pipeline.cli.seasons import check_plausible, parse_seasons
from f1_pipeline.settings import Settings

if TYPE_CHECKING:
    from f1_pipeline.cli import launch
    from f1_pipeline.core.spark import ClassArchive

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

    check_plausible(args.seasons, settings.last_plausible_season)
    started = time.monotonic()
    engine = _choose_engine(settings, args.verbose)
    try:
        # Runs are linked in the UI when its webserver is up (it shows this home's runs).
        ui_url = settings.dagster_url if webserver_up(settings.dagster_url) else None
        console = launch.Console(verbose=args.verbose, ui_url=ui_url)
        return _run(settings, args, console, started)
    finally:
        engine.finish()


def _run(
    settings: Settings,
    args: argparse.Namespace,
    console: launch.Console,
    started: float,
) -> int:
    from f1_pipeline.cli import launch
    from f1_pipeline.cli.errors import CommandError
    from f1_pipeline.core.lineage import read_commit, read_json, vanished_seasons
    from f1_pipeline.core.storage import layout
    from f1_pipeline.definitions import build_definitions
    from f1_pipeline.defs.instance import open_instance
    from f1_pipeline.defs.resources import storage_resource

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


@dataclass
class Engine:
    """The Spark the runs use, chosen (and an embedded one started) before anything else.
    Starting the JVM on a thread while Dagster loads was tried: on 2 cores the two compete
    and the command got no faster (cold, sample: 12.3 s vs 10.5-12.1 s)."""

    recording: ClassArchive | None = None  # the class archive its JVM records, to adopt

    def finish(self) -> None:
        """Stop a JVM recording the class archive (it writes it as it exits) and adopt it.
        Best effort: the command's own outcome stands whatever happens here."""
        from f1_pipeline.core.spark import stop_local_jvm

        if self.recording is None:
            return
        try:
            if stop_local_jvm() and self.recording.adopt():
                print(f"spark: class archive recorded ({self.recording.path}); cold starts "
                      "are faster now")  # fmt: skip
            else:
                self.recording.discard()
        except OSError as err:
            print(f"spark: the class archive was not recorded ({err})")


def _choose_engine(settings: Settings, verbose: bool) -> Engine:
    """Say which Spark the runs use: the warm Connect server when one runs, else an embedded
    session, started here with the JVM's own notices going to a log file rather than the
    terminal (--verbose: to the terminal); the steps reuse it. Its JVM maps the class
    archive, or records it (the first cold start of a Java and Spark)."""
    from f1_pipeline.core.engine import running_server
    from f1_pipeline.core.spark import ClassArchive, jvm_running

    if settings.spark_mode != "local":
        return Engine()
    url = settings.spark_remote
    if url is None and (server := running_server(settings.dagster_home)) is not None:
        url = server.url
    if url:
        print(f"spark: the Connect server at {url} (warm)")
        return Engine()
    archive = ClassArchive(settings.spark_class_folder)
    # Only a JVM started here, and stopped here at the end, records one.
    recording = not archive.path.is_file() and not jvm_running()
    print(
        "spark: embedded session (cold start; `f1-pipeline spark start` keeps one warm)"
        + ("; recording its class archive for later cold starts" if recording else "")
    )
    jvm_log = None if verbose else settings.dagster_home / "logs" / "spark-jvm.log"
    options = archive.java_options(record=recording)  # none when it cannot record
    _start_embedded(settings, options, jvm_log)
    return Engine(archive if recording and options else None)


def _start_embedded(settings: Settings, java_options: list[str], jvm_log: Path | None) -> None:
    from f1_pipeline.core.spark import jit_options, local_session, spark_config
    from f1_pipeline.core.storage import layout
    from f1_pipeline.defs.resources import storage_resource

    try:  # only to choose the JIT: an unreadable source is the ingest's to report
        storage = storage_resource(settings).get()
        sizes = [storage.info(layout.source_csv(table)).size for table in layout.SOURCE_TABLES]
        jit = jit_options(sum(sizes))
    except Exception:
        jit = []
    options = [*java_options, *jit]

    local_session(spark_config(settings.spark_master, java_options=options), jvm_log=jvm_log)
