from __future__ import annotations

from f1_pipeline.assets.metadata import METADATA_ITEMS, capped, markdown_table


def test_capped_keeps_short_values_and_summarises_long_ones():
    assert capped([1, 2]) == [1, 2]
    assert capped({"a": 1}) == {"a": 1}
    long = list(range(METADATA_ITEMS + 1))
    assert capped(long) == f"{len(long)} items: 0, 1, 2, 3, 4, ... {long[-1]}"
    assert capped({str(i): i for i in long}).startswith(f"{len(long)} items: ('0', 0)")


def test_markdown_table_escapes_pipes_and_nulls():
    md = markdown_table([{"a": "x|y", "b": None}], ("a", "b")).value
    assert md.splitlines() == ["| a | b |", "|---|---|", "| x\\|y |  |"]
