"""SQL over the published tables, locally, with DuckDB: one view per table under the Glue
Data Catalog's names (``season_stats``, ``cleaned_races``, ``cleaned_results``), the season
table read Hive-style from its ``season=YYYY/`` folders with the season typed as in the
schema (INTEGER).

A local root is read in place. DuckDB cannot read ``s3://`` here (its S3 extension is
downloaded on first use, and nothing but PyPI is reachable), so an S3 root's tables are
copied through the project's own storage into a temporary folder with the same layout first:
fine for this data's size (the full export is a few MB), not a data-lake engine — Athena is
that (docs/aws.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from f1_pipeline.core.contract import SEASON_COLUMN, SEASON_FILE_COLUMNS
from f1_pipeline.core.glue_catalog import HIVE_TYPES, SEASON_TABLE, TABLE_NAMES
from f1_pipeline.core.lineage import read_commit, read_manifest
from f1_pipeline.core.storage import Storage, layout
from f1_pipeline.core.transforms.schema import SPECS


class QueryError(ValueError):
    """The SQL was refused; the message is DuckDB's, on one line."""


def _local_path(storage: Storage, key: str, workdir: Path) -> Path:
    """Where DuckDB reads ``key``: the file itself on a local root, else a copy made through
    the storage, at the same relative path under ``workdir`` (the Hive folders kept)."""
    uri = storage.uri(key)
    if "://" not in uri:
        return Path(uri)
    copy = workdir / key
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(storage.read_bytes(key))
    return copy


def table_files(storage: Storage, workdir: Path) -> dict[str, list[Path]]:
    """Each catalog table's Parquet files, readable by DuckDB: the seasons the manifest
    lists as published (what the catalog's partitions are), and the cleaned tables the
    commit record names."""
    seasons = [layout.stats_parquet(s) for s in read_manifest(storage).published()]
    files = {SEASON_TABLE: [_local_path(storage, key, workdir) for key in seasons]}
    commit = read_commit(storage)
    for table in SPECS:
        key = commit.tables[table].key if commit and table in commit.tables else None
        found = [_local_path(storage, key, workdir)] if key and storage.exists(key) else []
        files[TABLE_NAMES[f"cleaned/{table}"]] = found
    return files


@contextmanager
def connect(storage: Storage, workdir: Path) -> Iterator[Any]:
    """An in-memory DuckDB connection with a view per table (empty, typed, when nothing is
    published yet)."""
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        for name, paths in table_files(storage, workdir).items():
            listed = "[" + ", ".join(_quote(str(p)) for p in paths) + "]"
            season, kind, _ = SEASON_COLUMN
            if paths and name == SEASON_TABLE:
                select = (
                    f"SELECT {season}, * EXCLUDE ({season}) FROM read_parquet({listed}, "
                    f"hive_partitioning = true, hive_types = {{'{season}': INTEGER}})"
                )
            elif paths:
                select = f"SELECT * FROM read_parquet({listed})"
            else:  # an empty, typed view
                columns = (
                    [(season, kind), *((n, k) for n, k, _ in SEASON_FILE_COLUMNS)]
                    if name == SEASON_TABLE
                    else [(c.name, HIVE_TYPES[c.type])
                          for c in SPECS[name.removeprefix("cleaned_")].cleaned_columns]
                )  # fmt: skip
                con.register(f"_{name}_empty", pa.schema(columns).empty_table())
                select = f"SELECT * FROM _{name}_empty"
            con.execute(f"CREATE VIEW {name} AS {select}")
        yield con
    finally:
        con.close()


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def run_query(con: Any, sql: str) -> tuple[list[str], list[tuple]]:
    """The column names and rows of ``sql``; DuckDB's refusal as a QueryError."""
    import duckdb

    try:
        relation = con.execute(sql)
        columns = [d[0] for d in relation.description or []]
        return columns, relation.fetchall()
    except duckdb.Error as err:
        raise QueryError(" ".join(str(err).split())) from None
