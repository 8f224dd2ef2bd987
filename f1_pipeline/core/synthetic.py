"""The one synthetic-data generator: a seeded export shaped like the real Ergast one, used by
the warm engine's warm-up, the tests and the bench (``full``: 1950-2024).

Per season the real number of championship races (7 in 1950, 24 in 2024; others 16-22),
entries per race as the eras had them, nulls where the real data has them (``position`` of
unclassified entries, ``fastestLapTime`` before 2004, ``time`` before 2005), a few shared
drives (two position-1 rows) in the 1950s and races without results. raceIds follow
Ergast's order (2009 back to 1950, then 2010 onwards). ``quirks`` adds what other exports
do: mixed null spellings, quoted and non-ASCII names, shuffled rows, CRLF line endings.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from datetime import date, timedelta

RACES_PER_SEASON = [
    7, 8, 8, 9, 9, 7, 8, 8, 11, 9, 10, 8, 9, 10, 10, 10, 9, 11, 12, 11,  # 1950-1969
    13, 11, 12, 15, 15, 14, 16, 17, 16, 15, 14, 15, 16, 15, 16, 16, 16, 16, 16, 16,  # 1970-1989
    16, 16, 16, 16, 16, 17, 16, 17, 16, 16, 17, 17, 17, 16, 18, 19, 18, 17, 18, 17,  # 1990-2009
    19, 19, 20, 19, 19, 19, 21, 20, 21, 21, 17, 22, 22, 22, 24,  # 2010-2024
]  # fmt: skip
NAMES = ["Argentine", "Australian", "Austrian", "Belgian", "Brazilian", "British", "Canadian",
         "Dutch", "French", "German", "Hungarian", "Italian", "Japanese", "Mexican", "Monaco",
         "Portuguese", "South African", "Spanish", "Swedish", "Swiss", "United States",
         "Azerbaijan", "Bahrain", "Chinese", "Qatar", "São Paulo", "Las Vegas",
         "Abu Dhabi"]  # fmt: skip
QUIRKY_NAMES = ['"Quoted, Grand Prix"', "Grand Prix de Monaco", "Indy 500"]
RACES_HEADER = ["raceId", "year", "round", "name", "date", "time"]
RESULTS_HEADER = ["resultId", "raceId", "driverId", "position", "fastestLapTime"]
NULLS = ("\\N", "null", "")


def _races(year: int, rng: random.Random) -> int:
    return RACES_PER_SEASON[year - 1950] if 1950 <= year <= 2024 else rng.randint(16, 24)


def _entries(year: int, rng: random.Random) -> int:
    """Cars entered in one race of ``year``, as the era had them."""
    eras = ((1961, 15, 30), (1970, 16, 24), (1980, 22, 30), (1990, 26, 34), (1996, 26, 30),
            (2010, 20, 22))  # fmt: skip
    for until, low, high in eras:
        if year < until:
            return rng.randint(low, high)
    return 20


def _dates(year: int, count: int, rng: random.Random) -> list[date]:
    """Sundays from spring to autumn (from January for long seasons), in order."""
    first = date(year, 3 if count < 20 else 1, 1) + timedelta(days=rng.randint(0, 20))
    first += timedelta(days=(6 - first.weekday()) % 7)
    weeks = ((date(year, 12, 8) if count > 20 else date(year, 10, 25)) - first).days // 7
    return [first + timedelta(weeks=w) for w in sorted(rng.sample(range(weeks + 1), count))]


def _csv(header: list[str], rows: list[list[object]], newline: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def export(
    seasons: Iterable[int] = range(1950, 2025), seed: int = 2024, quirks: bool = False
) -> tuple[str, str]:
    """races.csv and results.csv (their text) of an export holding ``seasons``."""
    rng = random.Random(seed)
    wanted = sorted(set(seasons))
    order = [y for y in wanted if y < 2010][::-1] + [y for y in wanted if y >= 2010]
    null = (lambda: rng.choice(NULLS)) if quirks else (lambda: "\\N")
    races: list[list[object]] = []
    results: list[list[object]] = []
    race_id = result_id = 0
    for year in order:
        count = _races(year, rng)
        names = [rng.choice(QUIRKY_NAMES + NAMES) if quirks else rng.choice(NAMES)
                 for _ in range(count)]  # fmt: skip
        roster = rng.sample(range(1, 861), 45)
        for rnd, day in enumerate(_dates(year, count, rng), start=1):
            race_id += 1
            start = rng.choice(["06:00:00", "13:00:00", "14:00:00"]) if year >= 2005 else null()
            name = names[rnd - 1]
            races.append([race_id, year, rnd, name if "Grand" in name or "500" in name
                          else f"{name} Grand Prix", day.isoformat(), start])  # fmt: skip
            if rng.random() < 0.02 or (year == wanted[-1] and rnd == count):
                continue  # a race without results (the latest season's last one always)
            drivers = rng.sample(roster, _entries(year, rng))
            classified = max(1, round(len(drivers) * (0.6 if year < 1990 else 0.85)))
            base_ms = rng.randint(65_000, 105_000)
            for place, driver in enumerate(drivers, start=1):
                result_id += 1
                position = place if place <= classified else null()
                ms = base_ms + rng.randint(0, 4000)
                lap = f"{ms // 60000}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
                timed = year >= 2004 and place <= classified
                results.append([result_id, race_id, driver, position, lap if timed else null()])
            if year < 1958 and rng.random() < 0.05:  # a shared drive: the co-driver's row
                result_id += 1
                results.append([result_id, race_id, roster[-1], 1, null()])
    if quirks:
        rng.shuffle(races)
        rng.shuffle(results)
    newline = rng.choice(["\n", "\r\n"]) if quirks else "\n"
    return _csv(RACES_HEADER, races, newline), _csv(RESULTS_HEADER, results, newline)
