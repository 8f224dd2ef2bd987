from __future__ import annotations

from dagster import MetadataValue, TableSchema

from f1_pipeline.core.steps.metadata import METADATA_ITEMS, capped, markdown_table, path, typed
from f1_pipeline.defs.metadata import to_dagster


def test_capped_keeps_short_values_and_summarises_long_ones():
    assert capped([1, 2]) == [1, 2]
    assert capped({"a": 1}) == {"a": 1}
    long = list(range(METADATA_ITEMS + 1))
    assert capped(long) == f"{len(long)} items: 0, 1, 2, 3, 4, ... {long[-1]}"
    assert capped({str(i): i for i in long}).startswith(f"{len(long)} items: ('0', 0)")


def test_markdown_table_escapes_pipes_and_nulls():
    md = markdown_table([{"a": "x|y", "b": None}], ("a", "b"))
    assert md["type"] == "md"
    assert md["raw_value"].splitlines() == ["| a | b |", "|---|---|", "| x\\|y |  |"]


def test_step_metadata_becomes_dagster_metadata():
    schema = typed({"columns": [{"name": "season", "type": "int"}]}, "table_schema")
    got = to_dagster(
        {"rows": 3, "source": {"key": "k"}, "uri": path("/x"), "schema": schema,
         "preview": markdown_table([], ("a",))}
    )  # fmt: skip
    assert got["rows"] == 3
    assert got["source"] == {"key": "k"}  # plain JSON stays as is
    assert got["uri"] == MetadataValue.path("/x")
    assert isinstance(got["schema"], TableSchema)
    assert got["schema"].columns[0].name == "season"
    assert got["preview"] == MetadataValue.md("| a |\n|---|")
