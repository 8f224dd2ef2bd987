"""Bad input fails the run with a message naming the file (line, column), and nothing
derived from it is published: earlier outputs stay byte-for-byte intact."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import DagsterEventType

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.launch import ingest, publish_seasons
from f1_pipeline.core.storage import layout


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for sub in ("cleaned", "results")
        for p in sorted((root / sub).rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def published(defs, instance, data_root):
    """A first, good run; returns the outputs it published."""
    ingest(defs, instance)
    publish_seasons(defs, instance, range(2018, 2025))
    snapshot = _snapshot(data_root)
    assert len([k for k in snapshot if k.startswith("results/stats_")]) == 7
    return snapshot


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def _fails(defs, instance, match: str) -> str:
    def full_run() -> None:
        ingest(defs, instance)
        publish_seasons(defs, instance, range(2018, 2025))

    with pytest.raises(CommandError) as err:
        full_run()
    assert match in str(err.value), str(err.value)
    return str(err.value)


def test_missing_file(defs, instance, data_root, published):
    (data_root / layout.source_csv("results")).unlink()
    _fails(defs, instance, f"{data_root / 'source-data/results.csv'}: file not found")
    assert _snapshot(data_root) == published


def test_missing_required_column(defs, instance, data_root, published):
    races = data_root / layout.source_csv("races")
    _edit(races, "raceId,year,round,name,date,time", "raceId,year,round,name,day,time")
    _fails(
        defs,
        instance,
        f"{races}, line 1: missing required column(s) date; header has raceId, year, round, "
        "name, day, time",
    )
    assert _snapshot(data_root) == published


def test_unparseable_value_names_line_and_column(defs, instance, data_root, published):
    results = data_root / layout.source_csv("results")
    _edit(results, "26507,1132,846,3,", "26507,1132,driver846,3,")
    line = _line_of(results, "driver846")
    _fails(
        defs,
        instance,
        f"{results}, line {line}, column 'driverId': cannot parse 'driver846' as an integer",
    )
    assert _snapshot(data_root) == published


def test_unparseable_date(defs, instance, data_root, published):
    races = data_root / layout.source_csv("races")
    _edit(races, "2024-07-07", "07/07/2024")
    line = _line_of(races, "07/07/2024")
    _fails(defs, instance, f"{races}, line {line}, column 'date': cannot parse '07/07/2024'")
    assert _snapshot(data_root) == published


def test_duplicate_key_fails_blocking_check_and_publishes_nothing(
    defs, instance, data_root, published
):
    races = data_root / layout.source_csv("races")
    _edit(races, "1143,2024,23,", "1144,2024,23,")
    message = _fails(defs, instance, "race_id_unique: 1 violation(s), e.g. race_id=1144, count=2")
    assert "lines=[2, 3]" in message
    run = instance.get_runs(limit=1)[0]
    checks = instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    passed = {
        r.dagster_event.event_specific_data.check_name: r.dagster_event.event_specific_data.passed
        for r in checks
    }
    assert passed == {"race_id_unique": False, "season_round_unique": True}
    assert _snapshot(data_root) == published


def test_result_for_unknown_race_fails_integrity_check(defs, instance, data_root, published):
    results = data_root / layout.source_csv("results")
    _edit(results, "26505,1132,1,1,", "26505,4242,1,1,")
    _fails(defs, instance, "race_id_in_races: 1 violation(s), e.g. result_id=26505, race_id=4242")
    assert _snapshot(data_root) == published
