"""An independent plain-pandas implementation of the stats_{year}.json contract.

Written from the contract's text, sharing no code with the Spark pipeline, to
check it (differential tests) and to time it against it (bench/).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

NULLS = ["", "null", "\\N"]


def _read(path: Path, columns: list[str]) -> pd.DataFrame:
    df = pd.read_csv(
        path, dtype=str, keep_default_na=False, na_values=NULLS, usecols=columns, quotechar='"'
    )
    return df.apply(lambda col: col.str.strip())


def stats_by_season(races_csv: Path, results_csv: Path) -> dict[int, list[dict]]:
    races = _read(races_csv, ["raceId", "year", "round", "name", "date", "time"])
    results = _read(results_csv, ["resultId", "raceId", "driverId", "position", "fastestLapTime"])
    for col in ("raceId", "year", "round"):
        races[col] = races[col].astype(int)
    results["resultId"] = results["resultId"].astype(int)
    results["raceId"] = results["raceId"].astype(int)
    winners = (
        results[pd.to_numeric(results["position"], errors="coerce") == 1]
        .sort_values("resultId")
        .drop_duplicates("raceId")[["raceId", "driverId", "fastestLapTime"]]
    )
    merged = races.merge(winners, on="raceId", how="left").sort_values(["year", "round"])
    out: dict[int, list[dict]] = {}
    for row in merged.itertuples(index=False):
        time = row.time if isinstance(row.time, str) else "00:00:00"
        out.setdefault(int(row.year), []).append(
            {
                "Race Name": row.name,
                "Race Round": int(row.round),
                "Race Datetime": f"{row.date}T{time}.000",
                "Race Winning driverId": None if pd.isna(row.driverId) else int(row.driverId),
                "Race Fastest Lap": None if pd.isna(row.fastestLapTime) else row.fastestLapTime,
            }
        )
    return out


def write_stats(races_csv: Path, results_csv: Path, out_dir: Path) -> int:
    """Write stats_{year}.json files; return how many."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = stats_by_season(races_csv, results_csv)
    for season, records in stats.items():
        text = json.dumps(records, indent=2, ensure_ascii=False, allow_nan=False)
        (out_dir / f"stats_{season}.json").write_text(text, encoding="utf-8")
    return len(stats)
