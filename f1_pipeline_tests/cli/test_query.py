"""`f1-pipeline query`: a table by default, csv and json on request; bad SQL is DuckDB's
message on one line and exit 1."""

from __future__ import annotations

import json

import pytest

from f1_pipeline.cli import main
from f1_pipeline.cli.query import render_table
from f1_pipeline_tests.conftest import copy_root

WINS = ("SELECT winner_driver_id, count(*) AS wins FROM season_stats WHERE season = 2023 "
        "AND winner_driver_id IS NOT NULL GROUP BY 1 ORDER BY wins DESC, 1")  # fmt: skip


@pytest.fixture
def root(published_sample, tmp_path, monkeypatch):
    root = copy_root(published_sample, tmp_path / "data")
    monkeypatch.setenv("F1_DATA_ROOT", str(root))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    return root


def _wins(expected_dir) -> dict[int, int]:
    counts: dict[int, int] = {}
    for race in json.loads((expected_dir / "stats_2023.json").read_text()):
        counts[race["Race Winning driverId"]] = counts.get(race["Race Winning driverId"], 0) + 1
    return counts


def test_table_csv_and_json_say_what_the_json_files_say(root, capsys, expected_dir):
    counts = _wins(expected_dir)
    assert main(["query", WINS]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["winner_driver_id", "|", "wins"]
    assert set(lines[1]) == {"-", "+"}
    assert lines[-1] == f"({len(counts)} rows)"
    assert main(["query", "--format", "json", WINS]) == 0
    records = json.loads(capsys.readouterr().out)
    assert {r["winner_driver_id"]: r["wins"] for r in records} == counts
    assert main(["query", "--format", "csv", WINS]) == 0
    csv_lines = capsys.readouterr().out.splitlines()
    assert csv_lines[0] == "winner_driver_id,wins"
    assert dict(tuple(map(int, line.split(","))) for line in csv_lines[1:]) == counts


def test_bad_sql_is_one_line_and_exit_1(root, capsys):
    assert main(["query", "SELEC season FROM season_stats"]) == 1
    err = capsys.readouterr().err.strip()
    assert "query refused:" in err
    assert "SELEC" in err
    assert len(err.splitlines()) == 1


def test_render_table_aligns_and_counts():
    text = render_table(["season", "name"], [(2024, "Bahrain"), (2023, None), (2022, "x" * 90)])
    assert text.splitlines() == [
        "   season | name",
        "----------+" + "-" * 62,
        "     2024 | Bahrain",
        "     2023 |",
        "     2022 | " + "x" * 59 + "…",
        "(3 rows)",
    ]
