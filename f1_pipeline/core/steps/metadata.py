"""Materialisation metadata in the Dagster Pipes format (``{"raw_value", "type"}`` for typed
values, plain JSON otherwise): what a Glue job can send as is, and what the local assets
convert with :func:`f1_pipeline.defs.metadata.to_dagster`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pyspark.sql import DataFrame

from f1_pipeline.core.storage import ObjectInfo, Storage

# Longest list or mapping put in metadata as is; longer ones are summarised.
METADATA_ITEMS = 50


def typed(value: Any, kind: str) -> dict[str, Any]:
    return {"raw_value": value, "type": kind}


def is_typed(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"raw_value", "type"}


def md(text: str) -> dict[str, Any]:
    return typed(text, "md")


def path(uri: str) -> dict[str, Any]:
    return typed(uri, "path")


def capped(values: Sequence | Mapping) -> Any:
    """``values`` if short, else a one-line summary: metadata must not grow with the data."""
    if len(values) <= METADATA_ITEMS:
        return values
    items = list(values.items() if isinstance(values, Mapping) else values)
    shown = ", ".join(str(v) for v in items[:5])
    return f"{len(items)} items: {shown}, ... {items[-1]}"


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> dict[str, Any]:
    def cell(value: Any) -> str:
        return "" if value is None else str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows]
    return md("\n".join(lines))


def dataframe_metadata(df: DataFrame, rows: int, preview_rows: int = 5) -> dict[str, Any]:
    """Row count, column schema and a preview of a Spark DataFrame."""
    preview = [r.asDict() for r in df.limit(preview_rows).collect()]
    columns = [{"name": f.name, "type": f.dataType.simpleString()} for f in df.schema.fields]
    return {
        "dagster/row_count": rows,
        "dagster/column_schema": typed({"columns": columns}, "table_schema"),
        "preview": markdown_table(preview, df.columns),
    }


def object_metadata(storage: Storage, info: ObjectInfo) -> dict[str, Any]:
    """Where an object is and which version: S3 VersionId and ETag, or the local sha256."""
    metadata: dict[str, Any] = {
        "uri": path(storage.uri(info.key)),
        "size_bytes": info.size,
        "checksum": info.checksum,
        "version": info.version,
    }
    if info.version_id:
        metadata["version_id"] = info.version_id
    return metadata


def for_pipes(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """Pipes takes scalars as they are but wants mappings and lists typed."""
    return {
        key: typed(value, "json")
        if isinstance(value, Mapping | list | tuple) and not is_typed(value)
        else value
        for key, value in metadata.items()
    }
