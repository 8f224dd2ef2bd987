"""Materialisation metadata in the Dagster Pipes format (``{"raw_value", "type"}`` for typed
values, plain JSON otherwise): what a Glue job can send as is, and what the local assets
convert with :func:`f1_pipeline.defs.metadata.to_dagster`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pyspark.sql import DataFrame

from f1_pipeline.core.storage import ObjectInfo, Storage
from f1_pipeline.core.transforms.schema import SOURCE_LINE, Column

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


def column_schema(columns: Iterable[tuple[str, Any, str]]) -> dict[str, Any]:
    """A table schema from (name, type, description) triples: the column schema the catalog
    shows at definition time and each materialisation repeats."""
    return typed(
        {"columns": [{"name": n, "type": str(t), "description": d} for n, t, d in columns]},
        "table_schema",
    )


PREVIEW_ROWS = 5


def preview_columns(columns: Sequence[Column]) -> list[str]:
    """The columns a preview shows: all but the source line."""
    return [c.name for c in columns if c.name != SOURCE_LINE]


def dataframe_metadata(
    df: DataFrame,
    rows: int,
    columns: Sequence[Column],
    preview: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Row count, the declared column schema and a preview of a Spark DataFrame (its first
    rows, read here unless ``preview`` has them). The DataFrame's columns must be the
    declared ones, in order: the catalog never shows a schema that the data does not have."""
    actual = [(f.name, f.dataType.simpleString()) for f in df.schema.fields]
    if actual != [(c.name, c.type) for c in columns]:
        raise ValueError(f"columns {actual} differ from the declared {columns}")
    shown = preview_columns(columns)
    if preview is None:
        preview = [r.asDict() for r in df.select(*shown).limit(PREVIEW_ROWS).collect()]
    return {
        "dagster/row_count": rows,
        "dagster/column_schema": column_schema(columns),
        "preview": markdown_table(preview, shown),
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
