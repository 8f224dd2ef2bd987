"""The bench's source data by scale name: "1", "100", "1000" (the sample replicated into new
distinct years, with new unique raceIds and resultIds, so every copy is a valid, distinct
dataset; x1000 reaches year 8993, hence F1_LATEST_SEASON=9999) or "full" (the synthetic
Ergast-shaped export of ``generate.py``: 1950-2024)."""

from __future__ import annotations

import calendar
import csv
import io
from pathlib import Path

from bench.generate import generate

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "source-data"


def label(scale: str) -> str:
    return scale if scale == "full" else f"x{scale}"


def write_scale(scale: str, out_dir: Path) -> tuple[int, int, int]:
    """Write races.csv and results.csv of ``scale`` under ``out_dir``; return how many
    seasons, races and results they hold."""
    if scale == "full":
        races, results = generate(out_dir)
    else:
        races, results = write_scaled(SAMPLE, out_dir, int(scale))
    with (out_dir / "races.csv").open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        year = next(rows).index("year")
        seasons = len({row[year] for row in rows})
    return seasons, races, results


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def _shift_date(date: str, years: int) -> str:
    year, month, day = (int(x) for x in date.split("-"))
    year += years
    day = min(day, calendar.monthrange(year, month)[1])
    return f"{year:04d}-{month:02d}-{day:02d}"


def write_scaled(source_dir: Path, out_dir: Path, factor: int) -> tuple[int, int]:
    """Write races.csv and results.csv ``factor`` times the sample; return their row counts."""
    races_header, races = _read(source_dir / "races.csv")
    results_header, results = _read(source_dir / "results.csv")
    r = {name: i for i, name in enumerate(races_header)}
    s = {name: i for i, name in enumerate(results_header)}
    years = sorted({int(row[r["year"]]) for row in races})
    span = years[-1] - years[0] + 1
    race_stride = max(int(row[r["raceId"]]) for row in races) + 1
    result_stride = max(int(row[s["resultId"]]) for row in results) + 1
    if years[-1] + span * (factor - 1) > 9999:
        raise ValueError(f"x{factor} would need years beyond 9999")

    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / "races.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(races_header)
        for copy in range(factor):
            for row in races:
                row = list(row)
                row[r["raceId"]] = str(int(row[r["raceId"]]) + copy * race_stride)
                row[r["year"]] = str(int(row[r["year"]]) + copy * span)
                row[r["date"]] = _shift_date(row[r["date"]], copy * span)
                writer.writerow(row)
    with (out_dir / "results.csv").open("w", newline="", encoding="utf-8") as handle:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(results_header)
        for copy in range(factor):
            for row in results:
                row = list(row)
                row[s["resultId"]] = str(int(row[s["resultId"]]) + copy * result_stride)
                row[s["raceId"]] = str(int(row[s["raceId"]]) + copy * race_stride)
                writer.writerow(row)
            handle.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    return len(races) * factor, len(results) * factor
