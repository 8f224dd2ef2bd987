"""``f1-pipeline catalog sync``: the published tables in the Glue Data Catalog (database
F1_GLUE_DATABASE): the tables created or updated from the schema, at the data root in use,
and the season table's partitions made the published seasons. Every publish does this too;
the command is for the deployer (a first registration before any run, or after a schema
change) and for repairs."""

from __future__ import annotations

import argparse

from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import usage_error


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    catalog = commands.add_parser(
        "catalog",
        parents=parents,
        help="register the published tables in the Glue Data Catalog (F1_GLUE_DATABASE)",
    )
    actions = catalog.add_subparsers(dest="catalog_command", required=True)
    actions.add_parser("sync", help="create/update the tables, then the season partitions")


def command(cli: Cli, args: argparse.Namespace) -> int:
    from f1_pipeline.defs.constants import CATALOG_KEY

    catalog = cli.resource(CATALOG_KEY)
    registered = catalog.register()
    if registered is None:
        raise usage_error("F1_GLUE_DATABASE is not set: name the Glue database (the stack's "
                          "GlueDatabaseName output)")  # fmt: skip
    tables, added, removed = registered
    for table, what in tables.items():
        print(f"{catalog.database}.{table}: {what}")
    print(f"season partitions: {len(added)} added, {len(removed)} removed")
    return 0
