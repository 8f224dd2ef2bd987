"""``f1-pipeline spark start|stop|status``: the warm local Spark engine, a Spark Connect server
on 127.0.0.1 that runs connect to in about a second instead of starting a JVM each."""

from __future__ import annotations

import argparse

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.settings import Settings


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    spark = commands.add_parser(
        "spark",
        parents=parents,
        help="the warm local Spark engine: a Spark Connect server on 127.0.0.1 that runs use",
    )
    actions = spark.add_subparsers(dest="spark_command", required=True)
    start = actions.add_parser("start", help="start it (or say where it already runs)")
    start.add_argument("--port", type=int, default=15002, help="preferred port (default 15002)")
    actions.add_parser("stop", help="stop it; runs start a private server of their own")
    actions.add_parser("status", help="is it running, and where (exit 1 if not)")


def command(settings: Settings, args: argparse.Namespace) -> int:
    from f1_pipeline.core import engine
    from f1_pipeline.core.spark import ClassArchive, spark_config
    from f1_pipeline.defs.instance import prepare_home

    home = prepare_home(settings.dagster_home, settings.dagster_storage)
    if args.spark_command == "start":
        try:
            # The server's JVM maps the class archive a cold `f1-pipeline run` recorded.
            classes = ClassArchive(settings.spark_class_folder).java_options()
            conf = spark_config(settings.spark_master, java_options=classes)
            server = engine.start(home, conf, args.port)
        except engine.EngineError as err:
            raise CommandError(str(err)) from err
        print(
            f"Spark Connect server running at {server.url} (pid {server.pid}, log {server.log});"
            " runs of this Dagster home use it"
        )
        return 0
    if args.spark_command == "stop":
        stopped = engine.stop(home)
        print(f"stopped the Spark Connect server (pid {stopped.pid})" if stopped
              else "no Spark Connect server was running")  # fmt: skip
        return 0
    running = engine.running_server(home)
    if running is None:
        print("no Spark Connect server running: each run starts a private one of its own")
        return 1
    print(f"Spark Connect server running at {running.url} (pid {running.pid}, since "
          f"{running.started_at}, log {running.log})")  # fmt: skip
    return 0
