"""``f1-pipeline``: the command line. One module per subcommand, each with ``add_parser`` and
``command``; every failure a user should read ends as a :class:`CommandError`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from f1_pipeline.cli import backfill, bootstrap, glue, run, upload
from f1_pipeline.cli.errors import CommandError
from f1_pipeline.settings import Settings, SettingsError

COMMANDS = {
    "run": run,
    "backfill": backfill,
    "upload": upload,
    "bootstrap": bootstrap,
    "glue": glue,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="f1-pipeline", description="Formula 1 per-season stats on Dagster and PySpark."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return COMMANDS[args.command].command(settings, args)
    except SettingsError as err:
        print(f"f1-pipeline: configuration error: {err}", file=sys.stderr)
        return 2
    except CommandError as err:
        print(f"f1-pipeline: {err}", file=sys.stderr)
        return err.exit_code


if __name__ == "__main__":
    sys.exit(main())
