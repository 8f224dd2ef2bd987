"""Bad input fails the run with a message naming the file (line, column), and nothing
derived from it is published: earlier outputs stay byte-for-byte intact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from dagster import DagsterEventType, instance_for_test

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.launch import ingest
from f1_pipeline.core.storage import layout
from f1_pipeline.definitions import build_definitions
from f1_pipeline_tests.conftest import SAMPLE_SOURCE, local_env
from f1_pipeline_tests.runs import publish


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for sub in ("cleaned", "results")
        for p in sorted((root / sub).rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def golden_root(tmp_path_factory, spark) -> Path:
    """A root holding the sample and everything a good run published from it (made once)."""
    root = tmp_path_factory.mktemp("golden") / "data"
    shutil.copytree(SAMPLE_SOURCE, root / "source-data")
    with instance_for_test() as instance:
        publish(build_definitions(local_env(root)), instance)
    return root


@pytest.fixture
def published(golden_root, data_root):
    """``data_root`` as a first, good run left it; returns the outputs it published."""
    for layer in ("cleaned", "results"):
        shutil.copytree(golden_root / layer, data_root / layer)
    snapshot = _snapshot(data_root)
    assert len([k for k in snapshot if k.startswith("results/stats_")]) == 7
    return snapshot


def defs_root(defs) -> Path:
    """The data root ``defs`` were built over (its storage resource's)."""
    return Path(defs.resources["storage"].data_root)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def _fails(defs, instance, match: str) -> str:
    with pytest.raises(CommandError) as err:
        publish(defs, instance)
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
    # Every check is evaluated before anything is published: the results' integrity check
    # sees the race that disappeared.
    assert passed == {
        "race_id_unique": False,
        "season_round_unique": True,
        "no_published_data_removed": True,
        "result_id_unique": True,
        "race_id_in_races": True,  # no results reference the race 1143 was
    }
    assert _snapshot(data_root) == published


def test_result_for_unknown_race_fails_integrity_check(defs, instance, data_root, published):
    results = data_root / layout.source_csv("results")
    _edit(results, "26505,1132,1,1,", "26505,4242,1,1,")
    _fails(defs, instance, "race_id_in_races: 1 violation(s), e.g. result_id=26505, race_id=4242")
    assert _snapshot(data_root) == published


# --- The upload is refused as a whole: a bad results.csv never replaces cleaned/races. ---


def test_a_bad_results_file_leaves_the_new_races_unpublished(defs, instance, data_root, published):
    races = data_root / layout.source_csv("races")
    _edit(races, "British Grand Prix", "Grand Prix of Great Britain")  # a valid change ...
    results = data_root / layout.source_csv("results")
    _edit(results, "26507,1132,846,3,", "26507,1132,846,-3,")  # ... and a bad results.csv
    line = _line_of(results, "26507,1132,846,-3,")
    _fails(
        defs,
        instance,
        f"{results}, line {line}, column 'position': '-3' is out of range: position must be "
        "at least 1",
    )
    assert _snapshot(data_root) == published  # the cleaned tables included


def test_a_header_only_file_never_empties_a_table(defs, instance, data_root, published):
    races = data_root / layout.source_csv("races")
    races.write_text("raceId,year,round,name,date,time\n")
    _fails(defs, instance, f"{races}, line 2: no data rows (a header only)")
    assert _snapshot(data_root) == published


def test_a_file_that_is_not_utf8_is_refused_at_its_first_bad_line(
    defs, instance, data_root, published
):
    races = data_root / layout.source_csv("races")
    # One race name saved as Latin-1 ("é" as the single byte 0xe9) in an otherwise UTF-8 file.
    data = races.read_bytes().replace(b"Monaco Grand Prix", b"Grand Prix de Monaco \xe9", 1)
    races.write_bytes(data)
    line = _line_of_bytes(races, b"Grand Prix de Monaco")
    _fails(defs, instance, f"{races}, line {line}: not UTF-8: byte 0xe9 is not valid UTF-8")
    assert _snapshot(data_root) == published


def test_a_bom_is_fine(defs, instance, data_root, published):
    races = data_root / layout.source_csv("races")
    races.write_bytes(b"\xef\xbb\xbf" + races.read_bytes())
    ingest(defs, instance)  # accepted; the cleaned races are the same rows
    assert _snapshot(data_root)[layout.cleaned_parquet("races")]


@pytest.mark.parametrize(
    ("table", "old", "new", "column", "problem"),
    [
        ("races", "1121,2024,1,", "1121,2024,-1,", "round",
         "'-1' is out of range: round must be at least 1"),
        ("races", "1121,2024,1,", "1121,20240,1,", "year",
         "'20240' is not a plausible season: Formula 1 seasons run from 1950 to next year"),
        ("races", "1121,2024,1,", "1121,1949,1,", "year",
         "'1949' is not a plausible season"),
        ("races", "1121,2024,1,", "0,2024,1,", "raceId",
         "'0' is out of range: raceId must be at least 1"),
        ("races", "2024-03-02", "2023-03-02", "date",
         "'2023-03-02' is not in the race's season (year 2024)"),
        ("results", "26507,1132,846,3,", "26507,1132,-846,3,", "driverId",
         "'-846' is out of range: driverId must be at least 1"),
        ("results", "26507,1132,846,3,", "26507,1132,846,0,", "position",
         "'0' is out of range: position must be at least 1"),
    ],
)  # fmt: skip
def test_implausible_values_are_refused_with_file_line_column_and_value(
    defs, instance, data_root, published, table, old, new, column, problem
):
    path = data_root / layout.source_csv(table)
    _edit(path, old, new)
    line = _line_of(path, new.split(",")[0] if table == "results" else new)
    _fails(defs, instance, f"{path}, line {line}, column '{column}': {problem}")
    assert _snapshot(data_root) == published


def _line_of_bytes(path: Path, needle: bytes) -> int:
    return next(i for i, line in enumerate(path.read_bytes().splitlines(), 1) if needle in line)
