"""Time `f1-pipeline run` against a plain pandas implementation of the same contract.

    python bench/run_bench.py [--scales 1,10,100,1000]

For each scale: generate the scaled sample, run the pipeline (a fresh Dagster
instance, so partition registration is included) and the pandas reference in
the same invocation, check they agree on a few seasons, and print both times.
Benchmarks only: no test asserts on these numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.scale import write_scaled  # noqa: E402
from f1_pipeline_tests.reference_pandas import write_stats  # noqa: E402


def _pipeline(root: Path, home: Path) -> tuple[float, str]:
    env = {
        **os.environ,
        "F1_DATA_ROOT": str(root),
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    script = Path(sys.executable).with_name("f1-pipeline")
    start = time.perf_counter()
    proc = subprocess.run([str(script), "run"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"f1-pipeline run failed:\n{proc.stderr[-3000:]}")
    summary = next(line for line in proc.stdout.splitlines() if line.startswith("summary:"))
    return seconds, summary


def _agree(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.glob("stats_*.json"))
    if names != sorted(p.name for p in b.glob("stats_*.json")):
        return False
    sample = names[:: max(1, len(names) // 5)]
    return all(json.loads((a / n).read_text()) == json.loads((b / n).read_text()) for n in sample)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,100,1000")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()
    sample = REPO / "data" / "source-data"
    rows = []
    print(
        f"{'scale':>6} {'races':>8} {'results':>9} {'pipeline s':>11} {'pandas s':>9} "
        f"{'ratio':>7}  agree"
    )
    for factor in (int(x) for x in args.scales.split(",")):
        base = args.out / f"x{factor}"
        shutil.rmtree(base, ignore_errors=True)
        races, results = write_scaled(sample, base / "data" / "source-data", factor)
        spark_s, summary = _pipeline(base / "data", base / "dagster_home")
        start = time.perf_counter()
        write_stats(
            base / "data/source-data/races.csv",
            base / "data/source-data/results.csv",
            base / "pandas-results",
        )
        pandas_s = time.perf_counter() - start
        agree = _agree(base / "data" / "results", base / "pandas-results")
        rows.append((factor, races, results, spark_s, pandas_s))
        print(
            f"{'x' + str(factor):>6} {races:>8} {results:>9} {spark_s:>11.1f} {pandas_s:>9.2f} "
            f"{spark_s / pandas_s:>7.1f}  {agree}",
            flush=True,
        )
        print(f"       {summary}", flush=True)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of the pipeline subprocesses (largest): {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
