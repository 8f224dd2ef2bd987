"""``f1-pipeline query "SQL"``: SQL over the published tables with DuckDB, on the data root
in use — ``season_stats`` (partitioned by ``season``), ``cleaned_races``,
``cleaned_results``: the Glue Data Catalog's names, so a query written here runs on Athena."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import CommandError

MAX_CELL = 60  # wider cells are cut in the table format (csv and json give them whole)


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    query = commands.add_parser(
        "query",
        parents=parents,
        help="SQL over the published tables (DuckDB): season_stats, cleaned_races, cleaned_results",
    )
    query.add_argument("sql", help='e.g. "SELECT season, count(*) FROM season_stats GROUP BY 1"')
    query.add_argument("--format", choices=("table", "csv", "json"), default="table")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def render_table(columns: Sequence[str], rows: Sequence[tuple]) -> str:
    """The rows as a text table (tabulate's), wide cells cut, and how many rows."""
    from tabulate import tabulate

    cells = [[v if len(_text(v)) <= MAX_CELL else _text(v)[: MAX_CELL - 1] + "…" for v in row]
             for row in rows]  # fmt: skip
    table = tabulate(cells, headers=list(columns), tablefmt="presto", missingval="")
    lines = [line.rstrip() for line in table.splitlines()]
    return "\n".join([*lines, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])


def command(cli: Cli, args: argparse.Namespace) -> int:
    from f1_pipeline.core.query import QueryError, connect, run_query

    storage = cli.storage
    with tempfile.TemporaryDirectory(prefix="f1-query-") as tmp, connect(
        storage, Path(tmp)
    ) as con:  # fmt: skip
        try:
            columns, rows = run_query(con, args.sql)
        except QueryError as err:
            raise CommandError(f"query refused: {err}") from None
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(map(_text, row) for row in rows)
    elif args.format == "json":
        records = [dict(zip(columns, row, strict=True)) for row in rows]
        print(json.dumps(records, indent=2, ensure_ascii=False, default=_text))
    else:
        print(render_table(columns, rows))
    return 0
