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

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.settings import Settings

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


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def render_table(columns: Sequence[str], rows: Sequence[tuple]) -> str:
    cells = [[_text(v) for v in row] for row in rows]
    cells = [[c if len(c) <= MAX_CELL else c[: MAX_CELL - 1] + "…" for c in row] for row in cells]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(columns))
    ]

    def line(values: Sequence[str]) -> str:
        return " | ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    body = [line(columns), rule, *(line(row) for row in cells)]
    return "\n".join([*body, f"({len(rows)} row{'s' if len(rows) != 1 else ''})"])


def command(settings: Settings, args: argparse.Namespace) -> int:
    from f1_pipeline.core.query import QueryError, connect, run_query
    from f1_pipeline.defs.resources import storage_resource

    storage = storage_resource(settings).get()
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
        writer.writerows([_text(v) if v is not None else "" for v in row] for row in rows)
    elif args.format == "json":
        records = [{c: _json_value(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        print(json.dumps(records, indent=2, ensure_ascii=False))
    else:
        print(render_table(columns, rows))
    return 0
