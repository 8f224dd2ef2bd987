"""Seeded random, valid source CSVs exercising the contract's edge cases."""

from __future__ import annotations

import random
from pathlib import Path

NULL_SPELLINGS = ("\\N", "null", "")


def _lap(rng: random.Random) -> str:
    minutes, seconds = rng.randint(0, 2), rng.randint(0, 59)
    if rng.random() < 0.5:
        return f"{minutes:02d}:{seconds:02d}.{rng.randint(0, 9)}"  # sample style: 01:29.4
    return f"{minutes}:{seconds:02d}.{rng.randint(0, 999):03d}"  # Ergast style: 1:27.452


def write_random_sources(directory: Path, seed: int) -> tuple[Path, Path]:
    """races.csv and results.csv with races without results, missing times and lap times,
    shared drives (two position-1 rows), shuffled rows and mixed null spellings."""
    rng = random.Random(seed)
    null = lambda: rng.choice(NULL_SPELLINGS)  # noqa: E731
    races, results = [], []
    race_id, result_id = rng.randint(1, 50), rng.randint(1, 1000)
    for season in rng.sample(range(1950, 2030), rng.randint(3, 5)):
        for rnd in range(1, rng.randint(3, 12) + 1):
            race_id += rng.randint(1, 3)
            time = (
                null()
                if rng.random() < 0.3
                else f"{rng.randint(0, 23):02d}:{rng.choice([0, 10, 30]):02d}:00"
            )
            name = rng.choice(["Grand Prix", "São Paulo GP", '"Quoted, GP"', "Indy 500"])
            date = f"{season}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            races.append(f"{race_id},{season},{rnd},{name},{date},{time}")
            if rng.random() < 0.15 or len(races) == 1:
                continue  # a race without results (always the first one)
            drivers = rng.sample(range(1, 900), rng.randint(1, 8))
            positions = list(range(1, len(drivers) + 1))
            if rng.random() < 0.15:
                positions[min(1, len(positions) - 1)] = 1  # shared drive
            for driver, pos in zip(drivers, positions, strict=True):
                result_id += rng.randint(1, 4)
                position = null() if rng.random() < 0.1 else str(pos)
                lap = null() if rng.random() < 0.25 else _lap(rng)
                results.append(f"{result_id},{race_id},{driver},{position},{lap}")
    rng.shuffle(races)
    rng.shuffle(results)
    newline = rng.choice(["\n", "\r\n"])
    races_csv = directory / "races.csv"
    results_csv = directory / "results.csv"
    directory.mkdir(parents=True, exist_ok=True)
    races_csv.write_bytes(newline.join(["raceId,year,round,name,date,time", *races, ""]).encode())
    results_csv.write_bytes(
        newline.join(["resultId,raceId,driverId,position,fastestLapTime", *results, ""]).encode()
    )
    return races_csv, results_csv
