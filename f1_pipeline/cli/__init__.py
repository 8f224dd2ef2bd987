"""``f1-pipeline``: the command line. One module per subcommand, each with ``add_parser`` and
``command``; every failure a user should read ends as a :class:`CommandError`: one short
message on stderr and an exit code. Stack traces only with ``--verbose``."""

from __future__ import annotations

import argparse
import sys
import traceback
import warnings
from collections.abc import Sequence

from f1_pipeline.cli import backfill, bootstrap, glue, run, spark, upload
from f1_pipeline.cli.errors import CommandError, as_command_error
from f1_pipeline.settings import Settings, SettingsError

COMMANDS = {
    "run": run,
    "backfill": backfill,
    "upload": upload,
    "bootstrap": bootstrap,
    "glue": glue,
    "spark": spark,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="f1-pipeline", description="Formula 1 per-season stats on Dagster and PySpark."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="store_true", help="print Dagster's logs and stack traces"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        module.add_parser(commands, [common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.verbose:
        # Library warnings (Dagster's beta notices, pyspark's deprecations) are for developers.
        warnings.simplefilter("ignore")
    try:
        settings = Settings.from_env()
        return COMMANDS[args.command].command(settings, args)
    except SettingsError as err:
        print(f"f1-pipeline: configuration error: {err}", file=sys.stderr)
        return 2
    except CommandError as err:
        print(f"f1-pipeline: {err}", file=sys.stderr)
        return err.exit_code
    except Exception as err:
        error = as_command_error(err)
        if args.verbose:
            traceback.print_exc()
        print(f"f1-pipeline: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
