"""``f1-pipeline glue deploy``: ship the code to the Glue job and create or update it."""

from __future__ import annotations

import argparse
from contextlib import nullcontext
from pathlib import Path

from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import CommandError, usage_error


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    glue = commands.add_parser(
        "glue", parents=parents, help="the AWS Glue job that runs the Spark steps"
    )
    glue_commands = glue.add_subparsers(dest="glue_command", required=True)
    deploy = glue_commands.add_parser(
        "deploy",
        parents=parents,
        help="upload the entry script and the project wheel to scripts/ of F1_DATA_ROOT's "
        "bucket and create or update the Glue job (idempotent)",
    )
    deploy.add_argument("--job-name", help="default: F1_GLUE_JOB_NAME")
    deploy.add_argument("--wheel", type=Path, help="a built f1_pipeline wheel (default: build)")
    deploy.add_argument("--role-arn", help="the job's IAM role, to create a job that is missing")


def command(cli: Cli, args: argparse.Namespace) -> int:
    from f1_pipeline.core.aws import aws_client
    from f1_pipeline.core.storage.s3 import S3Storage
    from f1_pipeline.glue.deploy import DeployError, built_wheel, deploy, describe

    storage = cli.storage
    job_name = args.job_name or cli.step_runner.glue_job_name
    if not isinstance(storage, S3Storage) or not job_name:
        raise usage_error(
            "glue deploy needs F1_DATA_ROOT=s3://bucket[/prefix] and a job name "
            "(--job-name or F1_GLUE_JOB_NAME)"
        )
    client = aws_client("glue")
    try:
        with nullcontext(args.wheel) if args.wheel else built_wheel() as wheel:
            done = deploy(client, storage, job_name, wheel, args.role_arn)
    except DeployError as err:
        raise CommandError(f"glue deploy: {err}") from err
    print("\n".join(describe(done)))
    return 0
