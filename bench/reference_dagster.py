"""The references: what a Dagster user would write instead of the pipeline, kept plain.

    DAGSTER_HOME=<empty dir> python bench/reference_dagster.py {pandas,pyspark} \
        RACES_CSV RESULTS_CSV OUT_DIR

One ``@asset`` partitioned by season (a ``DynamicPartitionsDefinition``, seasons registered
from races.csv) with ``BackfillPolicy.single_run()``: every season in one run and one step,
materialised by one ``dagster.materialize()`` call over the partition range. The step keeps
the position-1 rows (the lowest resultId per race: a shared drive has two), joins them onto
the races and writes one ``stats_{year}.json`` per season in the contract's format:

- ``pandas``: both CSVs read with pandas, merged in memory;
- ``pyspark``: on our stack, the session from dagster-pyspark's ``PySparkResource``
  (``local[*]``, UI off, UTC): both CSVs read with ``spark.read.csv``, the winners joined,
  one ``collect()``, the files written by the driver.

No validation, checks, lineage or incremental runs. The bench runs it on a fresh Dagster
home with no dagster.yaml and no Dagster or f1 environment variables (Dagster's defaults)
and times the whole command.
"""

import csv
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
from dagster_pyspark import PySparkResource

SEASONS = dg.DynamicPartitionsDefinition(name="seasons")
NULLS = ["\\N", "null", ""]
RACES = ["raceId", "year", "round", "name", "date", "time"]
RESULTS = ["resultId", "raceId", "driverId", "position", "fastestLapTime"]


class Paths(dg.Config):
    races: str
    results: str
    out_dir: str


def _write(out_dir: str, rows: Iterable[tuple]) -> int:
    """One stats_{year}.json per season of ``rows`` (year, round, name, date, time, driver,
    fastest lap; nulls as None), races in round order."""
    seasons: dict[int, list[dict]] = {}
    for year, rnd, name, date, start, driver, lap in sorted(rows, key=lambda r: r[:2]):
        seasons.setdefault(year, []).append({
            "Race Name": name,
            "Race Round": rnd,
            "Race Datetime": f"{date}T{start or '00:00:00'}.000",
            "Race Winning driverId": driver,
            "Race Fastest Lap": lap,
        })  # fmt: skip
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for year, records in seasons.items():
        text = json.dumps(records, indent=2, ensure_ascii=False)
        (out / f"stats_{year}.json").write_text(text, encoding="utf-8")
    return len(seasons)


def pandas_rows(config: Paths, seasons: set[int]) -> Iterable[tuple]:
    import pandas as pd

    def read(path: str, columns: list[str]) -> pd.DataFrame:
        text = {c: str for c in ("name", "date", "time", "fastestLapTime") if c in columns}
        return pd.read_csv(path, usecols=columns, dtype=text, na_values=NULLS,
                           keep_default_na=False)  # fmt: skip

    races, results = read(config.races, RACES), read(config.results, RESULTS)
    winners = (
        results[results["position"] == 1]
        .sort_values("resultId")
        .drop_duplicates("raceId")[["raceId", "driverId", "fastestLapTime"]]
    )
    races = races[races["year"].isin(seasons)]
    stats = races.merge(winners, on="raceId", how="left")
    for r in stats.itertuples(index=False):
        driver = None if pd.isna(r.driverId) else int(r.driverId)
        lap = None if pd.isna(r.fastestLapTime) else r.fastestLapTime
        time = None if pd.isna(r.time) else r.time
        yield int(r.year), int(r.round), r.name, r.date, time, driver, lap


def pyspark_rows(spark, config: Paths, seasons: set[int]) -> Iterable[tuple]:
    from pyspark.sql import functions as F

    def read(path: str, columns: list[str]):
        df = spark.read.csv(path, header=True, quote='"', escape='"')
        return df.select(*[F.when(~F.trim(c).isin(*NULLS), F.trim(c)).alias(c) for c in columns])

    races = read(config.races, RACES).select(
        F.col("raceId").cast("int").alias("raceId"), F.col("year").cast("int").alias("year"),
        F.col("round").cast("int").alias("round"), "name", "date", "time",
    ).where(F.col("year").isin(*seasons))  # fmt: skip
    results = read(config.results, RESULTS)
    winners = (
        results.where(F.col("position").try_cast("int") == 1)
        .groupBy(F.col("raceId").cast("int").alias("raceId"))
        .agg(F.min(F.struct(F.col("resultId").cast("int").alias("id"),
                            F.col("driverId").cast("int").alias("driver"),
                            F.col("fastestLapTime").alias("lap"))).alias("w"))
    )  # fmt: skip
    stats = races.join(winners, "raceId", "left").select(
        "year", "round", "name", "date", "time", "w.driver", "w.lap"
    )
    return [tuple(r) for r in stats.collect()]


@dg.asset(partitions_def=SEASONS, backfill_policy=dg.BackfillPolicy.single_run())
def pandas_stats(context: dg.AssetExecutionContext, config: Paths) -> None:
    """One stats_{year}.json per season in the run's partition range (pandas)."""
    seasons = {int(key) for key in context.partition_keys}
    written = _write(config.out_dir, pandas_rows(config, seasons))
    context.log.info(f"{written} seasons written to {config.out_dir}")


@dg.asset(partitions_def=SEASONS, backfill_policy=dg.BackfillPolicy.single_run())
def pyspark_stats(
    context: dg.AssetExecutionContext, config: Paths, pyspark: PySparkResource
) -> None:
    """One stats_{year}.json per season in the run's partition range (PySpark)."""
    seasons = {int(key) for key in context.partition_keys}
    start = time.perf_counter()
    rows = pyspark_rows(pyspark.spark_session, config, seasons)
    collected = time.perf_counter()
    written = _write(config.out_dir, rows)
    context.log.info(f"{written} seasons written to {config.out_dir}")
    context.log.info(f"pyspark_stats phases: read, join and collect {collected - start:.2f}s, "
                     f"write {time.perf_counter() - collected:.2f}s")  # fmt: skip


ASSETS = {"pandas": pandas_stats, "pyspark": pyspark_stats}
SPARK = PySparkResource(spark_config={
    "spark.master": "local[*]",
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
})  # fmt: skip


def main() -> None:
    engine, races, results, out_dir = sys.argv[1:5]
    asset = ASSETS[engine]
    with open(races, newline="", encoding="utf-8") as handle:
        keys = sorted({row["year"] for row in csv.DictReader(handle)})
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions(SEASONS.name, keys)
        result = dg.materialize(
            [asset],
            instance=instance,
            resources={"pyspark": SPARK} if engine == "pyspark" else {},
            run_config=dg.RunConfig(
                {asset.key.path[-1]: Paths(races=races, results=results, out_dir=out_dir)}
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
