"""``f1-pipeline``: the command line. One module per subcommand, each with ``add_parser`` and
``command``; every failure a user should read ends as a :class:`CommandError`: one short
message on stderr and an exit code. Stack traces only with ``--verbose``."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from collections.abc import Sequence
from importlib import import_module
from pathlib import Path


def python_problem(version: Sequence[int]) -> str | None:
    """What is wrong with running on Python ``version``, in one sentence, or None."""
    if (3, 11) <= tuple(version[:2]) < (3, 13):
        return None
    found = ".".join(map(str, version[:3]))
    return (
        f"f1-pipeline runs on Python 3.11 or 3.12, not {found}: install python3.11 "
        "(e.g. `apt-get install python3.11 python3.11-venv`) and reinstall with "
        "`make PYTHON=python3.11 run`"
    )


# Before anything else is imported: the rest needs 3.11 (it would fail with a traceback).
if (_problem := python_problem(tuple(sys.version_info[:3]))) is not None:
    sys.exit(f"f1-pipeline: {_problem}")

from f1_pipeline.cli.context import DEFAULT_HOME, Cli  # noqa: E402
from f1_pipeline.cli.errors import as_command_error  # noqa: E402

# Subcommand -> its module, in --help's order (`rollback` is history's second command).
_NAMES = "run accept backfill upload bootstrap glue spark team query catalog history".split()  # noqa: SIM905
COMMANDS = {name: import_module(f"f1_pipeline.cli.{name}") for name in _NAMES}
COMMANDS["rollback"] = COMMANDS["history"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="f1-pipeline", description="Formula 1 per-season stats on Dagster and PySpark."
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-v", "--verbose", action="store_true", help="print Dagster's logs and stack traces"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in dict.fromkeys(COMMANDS.values()):
        module.add_parser(commands, [common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.verbose:
        # Library warnings (Dagster's beta notices, pyspark's deprecations) are for developers.
        warnings.simplefilter("ignore")
    from f1_pipeline.core.aws import with_aws_defaults

    # The one place the command line reads its environment: every command gets it through
    # the context (and the Definitions built from it), Dagster and botocore theirs. Dagster
    # is imported by the commands that need it (`run` starts its JVM first).
    with_aws_defaults(os.environ)
    os.environ.setdefault("DAGSTER_HOME", str(Path(DEFAULT_HOME).resolve()))
    try:
        return COMMANDS[args.command].command(Cli(dict(os.environ)), args)
    except Exception as err:
        error = as_command_error(err)
        if args.verbose and error is not err:
            traceback.print_exc()
        print(f"f1-pipeline: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
