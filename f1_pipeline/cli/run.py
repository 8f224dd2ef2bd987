"""``f1-pipeline run``: the upload into published seasons, as one Dagster run (the ingest, then
every season whose data or code changed; more runs only for --seasons that are not adjacent
partitions). In this process, or through the run queue when a daemon serves the home."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from f1_pipeline.cli.seasons import check_plausible, parse_seasons
from f1_pipeline.settings import Settings

if TYPE_CHECKING:
    from dagster import DagsterInstance

    from f1_pipeline.cli import launch
    from f1_pipeline.core.spark import ClassArchive

SEASON_LINES = 30  # more seasons than this are summarised in one line
# A daemon whose heartbeat is older than this is taken as stopped (it beats every ~30 s).
DAEMON_HEARTBEAT_SECONDS = 90.0


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


def daemon_serves(instance: DagsterInstance) -> bool:
    """Whether a Dagster daemon is running for this instance (a recent heartbeat)."""
    now = time.time()
    beats = instance.get_daemon_heartbeats().values()
    return any(now - beat.timestamp < DAEMON_HEARTBEAT_SECONDS for beat in beats)


def command(settings: Settings, args: argparse.Namespace) -> int:
    # Imported here so `--help` and argument errors stay fast.
    from f1_pipeline.cli import launch
    from f1_pipeline.cli.errors import usage_error
    from f1_pipeline.cli.webserver import daemon_healthy, webserver_up

    check_plausible(args.seasons, settings.last_plausible_season)
    started = time.monotonic()
    # Runs are linked in the UI when its webserver is up (it shows this home's runs), and
    # submitted to its daemon's queue when that serves the home.
    ui_url = settings.dagster_url if webserver_up(settings.dagster_url) else None
    queue = ui_url is not None and daemon_healthy(ui_url)
    # A private Spark server boots in its own process while Dagster loads in this one.
    engine = Engine() if queue else _choose_engine(settings, args.verbose)
    try:
        from f1_pipeline.defs.instance import open_instance

        instance = open_instance(settings.dagster_home, settings.dagster_storage)
        if not queue and daemon_serves(instance):
            raise usage_error(
                f"a Dagster daemon serves DAGSTER_HOME={settings.dagster_home}, and "
                "`f1-pipeline run` would run beside its queue: point F1_DAGSTER_URL at its "
                "webserver (runs are then submitted through it), or stop the daemon"
            )
        if args.accept:
            from f1_pipeline.cli.accept import accept_upload

            accept_upload(settings, args.accept.strip())
        console = launch.Console(verbose=args.verbose, ui_url=ui_url)
        return _run(settings, args, instance, console, ui_url if queue else None, started)
    finally:
        engine.finish()


def _run(
    settings: Settings,
    args: argparse.Namespace,
    instance: DagsterInstance,
    console: launch.Console,
    queue_url: str | None,
    started: float,
) -> int:
    from f1_pipeline.cli import launch
    from f1_pipeline.core.upload import listing
    from f1_pipeline.definitions import build_definitions
    from f1_pipeline.defs.constants import SOURCE_CHECKSUMS_TAG, TRIGGER_TAG
    from f1_pipeline.defs.resources import storage_resource

    defs = build_definitions(settings)
    storage = storage_resource(settings).get()
    print(f"data root: {settings.data_root}\ndagster home: {settings.dagster_home}")
    plan = launch.plan(instance, storage, settings.last_plausible_season, args.seasons)
    how = "submitted to the daemon's queue" if queue_url else "in this process"
    span = f"{plan.ranges[0][0]}..{plan.ranges[-1][1]}" if plan.ranges else "(none found)"
    print(f"run: ingest + {plan.seasons} season(s) {span} ({how}) ...", flush=True)
    tags = {TRIGGER_TAG: "cli", SOURCE_CHECKSUMS_TAG: json.dumps(listing(storage), sort_keys=True)}
    result = launch.publish(defs, instance, storage, plan, tags, console, queue_url)
    _report(settings, result, console, plan.skipped, started)
    return 0


def _totals(seasons: list[launch.Materialized]) -> tuple[int, ...]:
    """Races, files written, unchanged, withdrawn and kept seasons: the run-level totals
    every season's event carries (a run of many seasons records no per-season facts), added
    over the runs; else summed over the seasons (a Glue job deployed before the totals)."""
    from f1_pipeline.core.steps.stats import RUN_TOTALS

    runs = {m.run_id: m.metadata for m in seasons}
    if runs and all(set(RUN_TOTALS) <= set(shared) for shared in runs.values()):
        return tuple(sum(int(shared[k]) for shared in runs.values()) for k in RUN_TOTALS)
    facts = [m.metadata for m in seasons]
    return (
        sum(m.get("dagster/row_count", 0) for m in facts),
        sum(m.get("file_count", 0) for m in facts),
        sum(1 for m in facts if m.get("unchanged")),
        sum(1 for m in facts if m.get("withdrawn")),
        sum(1 for m in facts if m.get("not_in_data")),
    )


def _report(
    settings: Settings,
    result: launch.RunResult,
    console: launch.Console,
    skipped: list[str],
    started: float,
) -> None:
    tables = [m for m in result.materialized if m.partition is None]
    for m in tables:
        rows = m.metadata.get("dagster/row_count", "?")
        note = " (unchanged)" if m.metadata.get("unchanged") else ""
        print(f"  {m.asset:<22} {rows:>8} rows{note}")
    seasons = sorted(
        (m for m in result.materialized if m.partition), key=lambda m: int(m.partition or 0)
    )
    races, files, unchanged, withdrawn, kept = _totals(seasons)
    for m in seasons if len(seasons) <= SEASON_LINES else []:
        if m.metadata.get("withdrawn"):
            print(f"  season {m.partition}: withdrawn (accepted; its files kept out of view)")
        elif m.metadata.get("not_in_data"):
            print(f"  season {m.partition}: not in the data (its withdrawal was not accepted)")
        else:
            note = " (unchanged)" if m.metadata.get("unchanged") else ""
            print(f"  season {m.partition}: {m.metadata.get('dagster/row_count', 0)} races{note}")
    if len(seasons) > SEASON_LINES:
        print(f"  {len(seasons)} seasons, {races} races, {unchanged} unchanged")
    for season in skipped:
        print(f"  season {season}: not in the data (nothing to publish)")
    print(f"  done in {result.seconds:.1f}s ({console.runs(result.run_ids)})")
    span = f"{seasons[0].partition}..{seasons[-1].partition}" if seasons else "none"
    print(
        f"summary: {len(seasons)} season(s) {span}, "
        f"{len(seasons) - unchanged - withdrawn - kept} rewritten, {unchanged} unchanged"
        + (f", {withdrawn} withdrawn" if withdrawn else "")
        + f", {files} files written under "
        f"{str(settings.data_root).rstrip('/')}/results, {races} races, "
        f"{time.monotonic() - started:.1f}s"
    )


@dataclass
class Engine:
    """The Spark the runs use, chosen (and a private server started) before the run: the
    server's JVM boots in its own process while Dagster loads in this one."""

    recording: ClassArchive | None = None  # the class archive its JVM records, to adopt

    def finish(self) -> None:
        """Stop a server recording the class archive (its JVM writes it as it exits) and
        adopt it. Best effort: the command's own outcome stands whatever happens here."""
        from f1_pipeline.core.engine import stop_private_server

        if self.recording is None:
            return
        try:
            if stop_private_server() and self.recording.adopt():
                print(f"spark: class archive recorded ({self.recording.path}); cold starts "
                      "are faster now")  # fmt: skip
            else:
                self.recording.discard()
        except OSError as err:
            print(f"spark: the class archive was not recorded ({err})")


def _choose_engine(settings: Settings, verbose: bool) -> Engine:
    """Say which Spark the runs use: the warm Connect server when one runs, else a private
    server for this command, started now. Its JVM maps the class archive, or records it
    (the first cold start of a Java and Spark)."""
    from f1_pipeline.core.engine import current_private_server, private_server, running_server
    from f1_pipeline.core.spark import ClassArchive, require_java, spark_config

    if settings.spark_mode != "local":
        return Engine()
    url = settings.spark_remote
    if url is None and (server := running_server(settings.dagster_home)) is not None:
        url = server.url
    if url:
        print(f"spark: the Connect server at {url} (warm)")
        return Engine()
    running = current_private_server()
    if running is not None and running.process.poll() is None:
        print("spark: this process's private server")  # called in-process, e.g. by tests
        return Engine()
    require_java()
    archive = ClassArchive(settings.spark_class_folder)
    recording = not archive.path.is_file()
    print(
        "spark: a private server for this run (cold start; `f1-pipeline spark start` keeps "
        "one warm)" + ("; recording its class archive for later cold starts" if recording else "")
    )
    options = [*archive.java_options(record=recording), *_jit(settings)]
    conf = spark_config(settings.spark_master, java_options=options)
    private_server(conf, settings.dagster_home / "logs" / "spark-private.log")
    return Engine(archive if recording and archive.recording_options(options) else None)


def _jit(settings: Settings) -> list[str]:
    from f1_pipeline.core.spark import jit_options
    from f1_pipeline.core.storage import layout
    from f1_pipeline.defs.resources import storage_resource

    try:  # only to choose the JIT: an unreadable source is the ingest's to report
        storage = storage_resource(settings).get()
        return jit_options(
            sum(storage.info(layout.source_csv(t)).size for t in layout.SOURCE_TABLES)
        )
    except Exception:
        return []
