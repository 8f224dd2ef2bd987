"""Metadata shown on materialisations in the Dagster UI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import MetadataValue, TableColumn, TableSchema
from pyspark.sql import DataFrame

from f1_pipeline.storage import ObjectInfo, Storage


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> MetadataValue:
    def cell(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    return MetadataValue.md("\n".join(lines))


def dataframe_metadata(df: DataFrame, rows: int, preview_rows: int = 5) -> dict[str, Any]:
    """Row count, column schema and a preview of a Spark DataFrame."""
    preview = [r.asDict() for r in df.limit(preview_rows).collect()]
    return {
        "dagster/row_count": rows,
        "dagster/column_schema": TableSchema(
            columns=[TableColumn(f.name, f.dataType.simpleString()) for f in df.schema.fields]
        ),
        "preview": markdown_table(preview, df.columns),
    }


def object_metadata(storage: Storage, info: ObjectInfo) -> dict[str, Any]:
    return {
        "uri": MetadataValue.path(storage.uri(info.key)),
        "size_bytes": info.size,
        "sha256": info.checksum,
    }
