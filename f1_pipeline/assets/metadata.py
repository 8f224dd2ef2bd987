"""Metadata shown on materialisations in the Dagster UI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import MetadataValue, TableColumn, TableSchema
from pyspark.sql import DataFrame

from f1_pipeline.storage import ObjectInfo, Storage

# Longest list or mapping put in metadata as is; longer ones are summarised.
METADATA_ITEMS = 50


def capped(values: Sequence | Mapping) -> Any:
    """``values`` if short, else a one-line summary: metadata must not grow with the data."""
    if len(values) <= METADATA_ITEMS:
        return values
    items = list(values.items() if isinstance(values, Mapping) else values)
    shown = ", ".join(str(v) for v in items[:5])
    return f"{len(items)} items: {shown}, ... {items[-1]}"


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
    """Where an object is and which version: S3 VersionId and ETag, or the local sha256."""
    metadata = {
        "uri": MetadataValue.path(storage.uri(info.key)),
        "size_bytes": info.size,
        "checksum": info.checksum,
        "version": info.version,
    }
    if info.version_id:
        metadata["version_id"] = info.version_id
    return metadata
