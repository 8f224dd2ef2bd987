"""The Glue job's entry point: ``scripts/glue_entry.py`` calls :func:`main`.

Runs one step of :data:`f1_pipeline.core.steps.STEPS`, chosen by the Dagster asset that launched
the job run, and reports back through Dagster Pipes over S3: log lines, each check result
as soon as it is evaluated, the materialisation with its metadata, and the data the
orchestrator acts on (seasons found).

Imports nothing from Dagster but ``dagster_pipes`` (no dependencies of its own), so the job
needs only this package's wheel and ``dagster-pipes`` on top of Glue's own libraries.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

IO_CHOICES = ("auto", "direct", "staged")
# How often the job uploads a chunk of Pipes messages.
MESSAGE_INTERVAL_SECONDS = 2.0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Our own job arguments; Glue's (--JOB_ID, ...) and Pipes' are left to their owners."""
    parser = argparse.ArgumentParser(prog="glue_entry", add_help=False)
    parser.add_argument("--f1-spark-io", choices=IO_CHOICES, default="auto")
    parser.add_argument("--f1-shuffle-partitions", type=int, default=8)
    args, _ = parser.parse_known_args(argv)
    return args


def build_session(shuffle_partitions: int, local_conf: Mapping[str, str]) -> tuple[Any, bool]:
    """The Spark session and whether it runs on Glue (GlueContext present); off Glue (the
    local stand-in) a local session configured as the pipeline's own."""
    try:
        from awsglue.context import GlueContext
        from pyspark import SparkContext
    except ImportError:
        from f1_pipeline.core.spark import local_session

        session, on_glue = local_session(local_conf), False
    else:
        session = GlueContext(SparkContext.getOrCreate()).spark_session
        on_glue = True
    from f1_pipeline.core.spark import SQL_CONF

    for key, value in SQL_CONF.items():
        session.conf.set(key, value)
    session.conf.set("spark.sql.shuffle.partitions", str(shuffle_partitions))
    return session, on_glue


def choose_io(choice: str, on_glue: bool, storage: Any) -> Any:
    """Glue reads and writes s3:// directly; local pyspark has no S3 filesystem, so off Glue
    the inputs and outputs are staged through local files."""
    from f1_pipeline.core.steps.io import DirectIO, LocalStagedIO

    direct = choice == "direct" or (choice == "auto" and on_glue)
    return DirectIO(storage) if direct else LocalStagedIO(storage)


def seasons_in_range(pipes: Any, params: dict[str, Any]) -> None:
    """The seasons sent in the extras must be the partitions of the launching run: Pipes
    tells the job the range's first and last keys (partitions are kept in registration
    order, not numeric order, so neither need be the smallest or largest season); both must
    be among the seasons, and a one-key range means exactly that season."""
    if not pipes.is_partition_step:
        return
    window = pipes.partition_key_range
    seasons = {str(int(s)) for s in params.get("seasons", [])}
    ends = {window.start, window.end}
    if not seasons or not ends <= seasons or (len(ends) == 1 and seasons != ends):
        raise ValueError(
            f"seasons {sorted(seasons, key=int)} do not match the run's partition range "
            f"{window.start}..{window.end}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    import os

    from dagster_pipes import (
        PipesCliArgsParamsLoader,
        PipesS3ContextLoader,
        PipesS3MessageWriter,
        open_dagster_pipes,
    )

    import f1_pipeline
    from f1_pipeline.core.aws import aws_client, with_aws_defaults
    from f1_pipeline.core.spark import spark_config
    from f1_pipeline.core.steps import CheckOutcome, StepContext, run_step
    from f1_pipeline.core.steps.metadata import for_pipes
    from f1_pipeline.core.storage import S3Root, parse_data_root
    from f1_pipeline.core.storage.s3 import S3Storage

    args = parse_args(argv)
    with_aws_defaults(os.environ)  # the job's entry point, as the CLI's and the code location's
    s3 = aws_client("s3")
    with open_dagster_pipes(
        context_loader=PipesS3ContextLoader(client=s3),
        message_writer=PipesS3MessageWriter(client=s3, interval=MESSAGE_INTERVAL_SECONDS),
        params_loader=PipesCliArgsParamsLoader(),
    ) as pipes:
        step, params = pipes.get_extra("f1_step"), pipes.get_extra("f1_params")
        root = parse_data_root(pipes.get_extra("f1_data_root"))
        if not isinstance(root, S3Root):
            raise ValueError(f"a Glue job needs an s3:// data root, not {root}")
        if step == "season_stats":
            seasons_in_range(pipes, params)
        storage = S3Storage(lambda: s3, root.bucket, root.prefix)
        local_conf = spark_config()
        session, on_glue = build_session(args.f1_shuffle_partitions, local_conf)
        io = choose_io(args.f1_spark_io, on_glue, storage)
        pipes.log.info(
            f"step {step} on {'Glue' if on_glue else 'local Spark'} {session.version} with "
            f"{type(io).__name__}; "
            f"f1-pipeline {version('f1-pipeline')} from {Path(f1_pipeline.__file__).parent}"
        )

        def report_check(outcome: CheckOutcome) -> None:
            pipes.report_asset_check(
                check_name=outcome.name,
                passed=outcome.passed,
                metadata=for_pipes(outcome.metadata),
                asset_key=outcome.asset,
            )

        ctx = StepContext(storage, session, io, pipes.log, pipes.run_id, report_check)
        result = run_step(step, ctx, params)
        for asset, metadata in result.materializations.items():
            pipes.report_asset_materialization(metadata=for_pipes(metadata), asset_key=asset)
        pipes.report_custom_message({"data": dict(result.data)})


if __name__ == "__main__":
    main()
