"""A synthetic export shaped like the real Ergast one (scale "full"): no download, seeded.

    python bench/generate.py OUT_DIR [--seed N]

75 seasons, 1950-2024, with the real number of championship races per season (7 in 1950,
24 in 2024: 1,125 races) and about 27,000 results: entries per race as the eras had them
(the Indianapolis 500 with 33 cars in 1950-1960, 25-30 a race with non-qualifiers in the
1970s-80s, 20 since 2017). Nulls where the real data has them (``\\N``): ``position`` for
entries not classified, ``fastestLapTime`` for nearly every result before 2004 (and for a
few later retirements), ``time`` for every race before 2005. A few 1950s races are shared
drives: two position-1 rows, the co-driver's with the higher resultId. raceIds follow
Ergast's order (2009 back to 1950, then 2010 onwards), rows are sorted by id, LF line
endings throughout; the columns are the sample's (``data/source-data``).
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import date, timedelta
from pathlib import Path

FIRST, LAST = 1950, 2024
# Championship races per season, 1950-2024, as in the Ergast export.
RACES_PER_SEASON = [
    7, 8, 8, 9, 9, 7, 8, 8, 11, 9, 10, 8, 9, 10, 10, 10, 9, 11, 12, 11,  # 1950-1969
    13, 11, 12, 15, 15, 14, 16, 17, 16, 15, 14, 15, 16, 15, 16, 16, 16, 16, 16, 16,  # 1970-1989
    16, 16, 16, 16, 16, 17, 16, 17, 16, 16, 17, 17, 17, 16, 18, 19, 18, 17, 18, 17,  # 1990-2009
    19, 19, 20, 19, 19, 19, 21, 20, 21, 21, 17, 22, 22, 22, 24,  # 2010-2024
]  # fmt: skip
NAMES = [  # the last seven only since 2000
    "Argentine", "Australian", "Austrian", "Belgian", "Brazilian", "British", "Canadian",
    "Dutch", "Emilia Romagna", "French", "German", "Hungarian", "Italian", "Japanese",
    "Malaysian", "Mexican", "Monaco", "Portuguese", "Pescara", "South African", "Spanish",
    "Swedish", "Swiss", "Turkish", "United States", "Azerbaijan", "Bahrain", "Chinese",
    "Qatar", "São Paulo", "Las Vegas", "Abu Dhabi",
]  # fmt: skip
NULL = "\\N"
RACES_HEADER = ["raceId", "year", "round", "name", "date", "time"]
RESULTS_HEADER = ["resultId", "raceId", "driverId", "position", "fastestLapTime"]
START_TIMES = ["05:00:00", "06:00:00", "12:00:00", "13:00:00", "14:00:00", "17:00:00", "18:00:00"]


def _entries(year: int, rng: random.Random) -> int:
    """Cars entered in one race of ``year``, as the era had them."""
    if year < 1961:
        return rng.randint(15, 30)
    if year < 1970:
        return rng.randint(16, 24)
    if year < 1980:
        return rng.randint(22, 30)
    if year < 1990:
        return rng.randint(26, 34)
    if year < 1996:
        return rng.randint(26, 30)
    if year < 2010:
        return rng.choice([20, 22, 22])
    return {2010: 24, 2011: 24, 2012: 24, 2013: 22, 2014: 22, 2016: 22}.get(year, 20)


def _unclassified_share(year: int) -> float:
    return 0.45 if year < 1990 else 0.35 if year < 2000 else 0.2 if year < 2010 else 0.12


def _lap(base_ms: int, rng: random.Random) -> str:
    ms = base_ms + rng.randint(0, 4000)
    return f"{ms // 60000}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _season_dates(year: int, count: int, rng: random.Random) -> list[date]:
    """Sundays from spring to autumn (from January for long modern seasons), in order."""
    first = date(year, 3 if count < 20 else 1, 1) + timedelta(days=rng.randint(0, 20))
    first += timedelta(days=(6 - first.weekday()) % 7)
    last = date(year, 12, 8) if count > 20 else date(year, 10, 25)
    weeks = (last - first).days // 7
    picked = sorted(rng.sample(range(weeks + 1), count))
    return [first + timedelta(weeks=w) for w in picked]


def generate(out_dir: Path, seed: int = 2024) -> tuple[int, int]:
    """Write races.csv and results.csv under ``out_dir``; return their row counts."""
    assert len(RACES_PER_SEASON) == LAST - FIRST + 1
    rng = random.Random(seed)
    counts = dict(zip(range(FIRST, LAST + 1), RACES_PER_SEASON, strict=True))
    order = [*range(2009, FIRST - 1, -1), *range(2010, LAST + 1)]  # Ergast's raceId order
    races: list[list[str]] = []
    results: list[list[object]] = []
    race_id = result_id = 0
    shared = set(rng.sample([y for y in counts if y < 1958], 4))  # seasons with a shared drive
    for year in order:
        count = counts[year]
        names = rng.sample(NAMES[:-7] if year < 2000 else NAMES, count)
        if FIRST <= year <= 1960:  # the Indianapolis 500 counted for the championship
            names[rng.randrange(1, count)] = "Indianapolis 500"
        roster = rng.sample(range(1, 861), 45)  # this season's drivers
        shared_round = rng.randrange(count) if year in shared else -1
        for rnd, (name, day) in enumerate(zip(names, _season_dates(year, count, rng), strict=True)):
            race_id += 1
            start = rng.choice(START_TIMES) if year >= 2005 else NULL
            label = name if name.endswith("500") else f"{name} Grand Prix"
            races.append([race_id, year, rnd + 1, label, day.isoformat(), start])
            cars = 33 if name == "Indianapolis 500" else _entries(year, rng)
            drivers = rng.sample(roster, min(cars, len(roster)))
            classified = max(1, round(len(drivers) * (1 - _unclassified_share(year))))
            base_ms = rng.randint(65_000, 105_000)
            for place, driver in enumerate(drivers, start=1):
                result_id += 1
                position = place if place <= classified else NULL
                timed = year >= 2004 and (place <= classified or rng.random() > 0.03)
                lap = _lap(base_ms, rng) if timed or rng.random() < 0.001 else NULL
                results.append([result_id, race_id, driver, position, lap])
                if place == 1 and rnd == shared_round:  # the co-driver of a shared drive
                    result_id += 1
                    co_driver = next(d for d in roster if d not in drivers)
                    results.append([result_id, race_id, co_driver, 1, NULL])
    races.sort(key=lambda row: row[0])
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (
        ("races.csv", RACES_HEADER, races),
        ("results.csv", RESULTS_HEADER, results),
    ):
        with (out_dir / name).open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    return len(races), len(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    races, results = generate(args.out_dir, args.seed)
    print(f"{args.out_dir}: {races} races, {results} results")


if __name__ == "__main__":
    main()
