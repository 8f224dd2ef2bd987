"""The published tables in the AWS Glue Data Catalog, for Athena, Redshift Spectrum, EMR and
Glue itself: ``season_stats`` (partitioned by ``season``) and the cleaned tables, with the
columns, types and descriptions of the one schema definition (``core/contract.py`` for the
season table, ``core/transforms/schema.py`` for the cleaned ones), at the data root in use.

Partitions are registered by the platform after each publish (:func:`sync_partitions`:
every published season, withdrawn ones removed) rather than by partition projection: a
registered partition is seen by every engine that reads the catalog (projection is
Athena's alone), and each sync reconciles the catalog with the manifest, so a missed call
is repaired by the next one. Tables are created or updated by :func:`ensure_tables`
(`f1-pipeline catalog sync`, the deployer).

No Dagster here: plain boto3 Glue calls, testable against moto's catalog API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from f1_pipeline.core.contract import SEASON_COLUMN, SEASON_FILE_COLUMNS
from f1_pipeline.core.lineage import read_manifest
from f1_pipeline.core.storage import Storage, layout
from f1_pipeline.core.transforms.schema import SPECS

SEASON_TABLE = "season_stats"
# Asset key (user string) -> catalog table name; the local query layer uses the same names.
TABLE_NAMES = {
    "results/season_stats": SEASON_TABLE,
    "cleaned/races": "cleaned_races",
    "cleaned/results": "cleaned_results",
}
_PARQUET = {
    "InputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "OutputFormat": "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    "SerdeInfo": {
        "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    },
}
# The column types used here: the catalog's (Hive's, and Spark's) names, as pyarrow types.
HIVE_TYPES = {
    "int": pa.int32(),
    "bigint": pa.int64(),
    "string": pa.string(),
    "date": pa.date32(),
}
_ARROW_TO_HIVE = {arrow: hive for hive, arrow in HIVE_TYPES.items()}
_CREATE_BATCH, _DELETE_BATCH = 100, 25  # Glue's limits per batch call


def hive_type(kind: pa.DataType | str) -> str:
    """The catalog (Hive) type of a pyarrow type or a Spark SQL type name."""
    if isinstance(kind, str):
        return kind  # Spark's names for our types (int, bigint, string, date) are Hive's
    if pa.types.is_timestamp(kind):
        return "timestamp"
    return _ARROW_TO_HIVE[kind]


def _column(name: str, kind: pa.DataType | str, description: str) -> dict[str, str]:
    return {"Name": name, "Type": hive_type(kind), "Comment": description[:255]}


def _table_input(name: str, location: str, columns: Sequence[dict], description: str,
                 partition_keys: Sequence[dict] = ()) -> dict[str, Any]:  # fmt: skip
    return {
        "Name": name,
        "Description": description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE"},
        "PartitionKeys": list(partition_keys),
        "StorageDescriptor": {"Columns": list(columns), "Location": location, **_PARQUET},
    }


def table_inputs(root_uri: str) -> dict[str, dict[str, Any]]:
    """Each catalog table's TableInput, at ``root_uri`` (``s3://bucket/prefix/``)."""
    root = root_uri if root_uri.endswith("/") else f"{root_uri}/"
    tables = {
        SEASON_TABLE: _table_input(
            SEASON_TABLE,
            f"{root}{layout.SEASON_TABLE_PREFIX}",
            [_column(*c) for c in SEASON_FILE_COLUMNS],
            "One row per race of each published season (the stats_{year}.json contract's "
            "races, plus overall fastest laps).",
            [_column(*SEASON_COLUMN)],
        )
    }
    for table, spec in SPECS.items():
        name = TABLE_NAMES[f"cleaned/{table}"]
        tables[name] = _table_input(
            name,
            f"{root}{layout.cleaned_table_prefix(table)}",
            [_column(c.name, c.type, c.description) for c in spec.cleaned_columns],
            f"The latest accepted upload's {table}.csv, typed and validated.",
        )
    return tables


def ensure_tables(glue: Any, database: str, root_uri: str) -> dict[str, str]:
    """Create the database (if missing) and each table, or update a table whose definition
    differs; what was done per table ("created", "updated", "unchanged")."""
    try:
        glue.get_database(Name=database)
    except glue.exceptions.EntityNotFoundException:
        glue.create_database(
            DatabaseInput={"Name": database, "Description": "f1-pipeline's published tables"}
        )
    done = {}
    for name, wanted in table_inputs(root_uri).items():
        try:
            current = glue.get_table(DatabaseName=database, Name=name)["Table"]
        except glue.exceptions.EntityNotFoundException:
            glue.create_table(DatabaseName=database, TableInput=wanted)
            done[name] = "created"
            continue
        if _comparable(current) == _comparable(wanted):
            done[name] = "unchanged"
        else:
            glue.update_table(DatabaseName=database, TableInput=wanted)
            done[name] = "updated"
    return done


def _comparable(table: Mapping[str, Any]) -> tuple:
    sd = table.get("StorageDescriptor", {})
    return (
        table.get("Description"),
        table.get("TableType"),
        [dict(k) for k in table.get("PartitionKeys", [])],
        [dict(c) for c in sd.get("Columns", [])],
        sd.get("Location"),
        sd.get("InputFormat"),
        sd.get("OutputFormat"),
        (sd.get("SerdeInfo") or {}).get("SerializationLibrary"),
    )


def partition_location(root_uri: str, season: int) -> str:
    root = root_uri if root_uri.endswith("/") else f"{root_uri}/"
    key = layout.stats_parquet(season)
    return f"{root}{key.rsplit('/', 1)[0]}/"


def catalog_seasons(storage: Storage) -> list[int]:
    """The seasons the manifest lists as published (withdrawn ones are not)."""
    return [int(s) for s in read_manifest(storage).published()]


def registered_seasons(glue: Any, database: str) -> set[int]:
    found: set[int] = set()
    pages = glue.get_paginator("get_partitions").paginate(
        DatabaseName=database, TableName=SEASON_TABLE
    )
    for page in pages:
        found.update(int(p["Values"][0]) for p in page["Partitions"])
    return found


def sync_partitions(
    glue: Any, database: str, root_uri: str, seasons: Iterable[int]
) -> tuple[list[int], list[int]]:
    """Make the season table's partitions exactly ``seasons`` (the published ones): register
    the missing, remove the withdrawn; (added, removed)."""
    wanted = set(seasons)
    have = registered_seasons(glue, database)
    added, removed = sorted(wanted - have), sorted(have - wanted)
    sd = table_inputs(root_uri)[SEASON_TABLE]["StorageDescriptor"]
    for i in range(0, len(added), _CREATE_BATCH):
        batch = [
            {
                "Values": [str(s)],
                "StorageDescriptor": {**sd, "Location": partition_location(root_uri, s)},
            }
            for s in added[i : i + _CREATE_BATCH]
        ]
        _raise_errors(glue.batch_create_partition(
            DatabaseName=database, TableName=SEASON_TABLE, PartitionInputList=batch))  # fmt: skip
    for i in range(0, len(removed), _DELETE_BATCH):
        batch = [{"Values": [str(s)]} for s in removed[i : i + _DELETE_BATCH]]
        _raise_errors(glue.batch_delete_partition(
            DatabaseName=database, TableName=SEASON_TABLE, PartitionsToDelete=batch))  # fmt: skip
    return added, removed


def _raise_errors(response: Mapping[str, Any]) -> None:
    errors = response.get("Errors") or []
    if errors:
        first = errors[0]
        detail = first.get("ErrorDetail", {})
        raise RuntimeError(
            f"Glue Data Catalog refused {len(errors)} partition(s), e.g. "
            f"{first.get('PartitionValues')}: {detail.get('ErrorCode')}: "
            f"{detail.get('ErrorMessage')}"
        )
