"""Step metadata (the Dagster Pipes format, see :mod:`f1_pipeline.core.steps.metadata`) as Dagster
metadata values, for the steps run in-process."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dagster import MetadataValue, TableColumn, TableSchema

from f1_pipeline.core.steps.metadata import is_typed


def _typed_value(raw: Any, kind: str) -> Any:
    if kind == "md":
        return MetadataValue.md(raw)
    if kind == "path":
        return MetadataValue.path(raw)
    if kind == "table_schema":
        return TableSchema(
            columns=[
                TableColumn(c["name"], c["type"], description=c.get("description"))
                for c in raw["columns"]
            ]
        )
    raise ValueError(f"unsupported metadata type {kind!r}")


def to_dagster(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: _typed_value(value["raw_value"], value["type"]) if is_typed(value) else value
        for key, value in metadata.items()
    }
