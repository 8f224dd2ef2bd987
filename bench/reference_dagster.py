"""The reference: what a Dagster user would write instead of the pipeline, kept plain.

    DAGSTER_HOME=<empty dir> python bench/reference_dagster.py RACES_CSV RESULTS_CSV OUT_DIR

One ``@asset`` partitioned by season (a ``DynamicPartitionsDefinition``, seasons registered
from races.csv) with ``BackfillPolicy.single_run()``: every season in one run and one step,
materialised by one ``dagster.materialize()`` call over the partition range. The step reads
both CSVs with pandas, keeps the position-1 rows (the lowest resultId per race: a shared
drive has two), left-merges them onto the races and writes one ``stats_{year}.json`` per
season in the contract's format. No checks, no lineage, no incremental runs. The bench runs
it on a fresh Dagster home with no dagster.yaml and no Dagster or f1 environment variables
(Dagster's defaults) and times the whole command.
"""

import json
import sys
from pathlib import Path

import dagster as dg
import pandas as pd

SEASONS = dg.DynamicPartitionsDefinition(name="seasons")
NULLS = ["\\N", "null", ""]


class Paths(dg.Config):
    races: str
    results: str
    out_dir: str


def _read(path: str, columns: list[str]) -> pd.DataFrame:
    text = {c: str for c in ("name", "date", "time", "fastestLapTime") if c in columns}
    return pd.read_csv(path, usecols=columns, dtype=text, na_values=NULLS, keep_default_na=False)


@dg.asset(partitions_def=SEASONS, backfill_policy=dg.BackfillPolicy.single_run())
def season_stats(context: dg.AssetExecutionContext, config: Paths) -> None:
    """One stats_{year}.json per season in the run's partition range."""
    seasons = {int(key) for key in context.partition_keys}
    races = _read(config.races, ["raceId", "year", "round", "name", "date", "time"])
    results = _read(
        config.results, ["resultId", "raceId", "driverId", "position", "fastestLapTime"]
    )
    winners = (
        results[results["position"] == 1]
        .sort_values("resultId")
        .drop_duplicates("raceId")[["raceId", "driverId", "fastestLapTime"]]
    )
    races = races[races["year"].isin(seasons)].fillna({"time": "00:00:00"})
    stats = races.merge(winners, on="raceId", how="left").sort_values(["year", "round"])
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for year, season in stats.groupby("year"):
        records = [
            {
                "Race Name": row.name,
                "Race Round": int(row.round),
                "Race Datetime": f"{row.date}T{row.time}.000",
                "Race Winning driverId": None if pd.isna(row.driverId) else int(row.driverId),
                "Race Fastest Lap": None if pd.isna(row.fastestLapTime) else row.fastestLapTime,
            }
            for row in season.itertuples(index=False)
        ]
        text = json.dumps(records, indent=2, ensure_ascii=False)
        (out / f"stats_{year}.json").write_text(text, encoding="utf-8")
    context.log.info(f"{len(seasons)} seasons written to {out}")


def main() -> None:
    races, results, out_dir = sys.argv[1:4]
    years = sorted(pd.read_csv(races, usecols=["year"])["year"].unique())
    keys = [str(year) for year in years]
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(SEASONS.name, keys)
        result = dg.materialize(
            [season_stats],
            instance=instance,
            run_config=dg.RunConfig(
                {"season_stats": Paths(races=races, results=results, out_dir=out_dir)}
            ),
            tags={
                "dagster/asset_partition_range_start": keys[0],
                "dagster/asset_partition_range_end": keys[-1],
            },
        )
    print(f"run {result.run_id}: {'success' if result.success else 'failure'}")
    sys.exit(0 if result.success else 1)


if __name__ == "__main__":
    main()
