"""What users wait for, against a naive pandas script and the plain Dagster assets.

    python bench/run_bench.py [--scales 1,full,1000] [--repeat 3] [--no-latency]
                              [--latency-shapes ui,team]

For each scale (``scale.py``: "1", "100", "1000" the sample replicated into new seasons;
"full" the synthetic Ergast-shaped export of ``generate.py``), ``--repeat`` times each,
interleaved, every figure the wall time of a whole command (Python's start and imports
included):
- pandas: the naive script (``naive_pandas.py``, i.e. ``f1_pipeline_tests/reference_pandas``),
  the floor;
- dg-pandas, dg-pyspark: what a Dagster user would write instead (``reference_dagster.py``:
  one season-partitioned asset, one run over every season), on pandas and on our stack
  (dagster-pyspark's PySparkResource), each on a fresh Dagster home with Dagster's defaults;
- cold: ``f1-pipeline run`` with no warm engine (the run's own JVM, mapping the JVM class
  archive a first cold run of this invocation recorded: that run is printed first);
- warm: ``f1-pipeline run`` on the warm engine (`f1-pipeline spark start`, started once);
f1-pipeline runs on a fresh copy of the data (nothing but source-data/) and a fresh Dagster
home. One table: per scale and command the median and min-max seconds, the ratios of the
medians to the plain assets' (dg-pandas and dg-pyspark), the median peak resident memory of
the process tree (JVMs included; warm: the engine's too), and whether every run's
stats_*.json equal the naive script's (parsed; a sample of 200 beyond 1,000 seasons). Then
where the time went in one run of each f1-pipeline mode and of dg-pyspark (``breakdown.py``:
the process's start to the run's creation, the run's steps and phases, its events, the exit),
the Spark jobs and stages per step (``spark_jobs.py``), the cost of a season's Dagster event
(``events.py``, SQLite and PostgreSQL) and, unless --no-latency, upload ->
published (``latency.py``) through
`dg dev` (``ui``, what `make ui` runs) and `f1-pipeline team up` (``team``, what `make team`
runs), side by side, with the listing and the queue sensor. Benchmarks only: no test asserts
on these numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.breakdown import breakdowns  # noqa: E402
from bench.proctree import PeakMemory  # noqa: E402
from bench.scale import SAMPLE, label, write_scale  # noqa: E402

if TYPE_CHECKING:
    from f1_pipeline.core.spark import WarmEngine

PY = sys.executable
CLI = str(Path(PY).with_name("f1-pipeline"))
BENCH = REPO / "bench"
MODES = ("pandas", "dg-pandas", "dg-pyspark", "cold", "warm")
PLAIN = ("dg-pandas", "dg-pyspark")  # the ratios' denominators
# The f1-pipeline runs' environment: no variable the caller set for another purpose.
BASE_ENV = {k: v for k, v in os.environ.items() if not k.startswith("F1_")}
BASE_ENV.update(DAGSTER_DISABLE_TELEMETRY="1", F1_LATEST_SEASON="9999")  # replicas: far years
# The reference's: Dagster's defaults (no DAGSTER_* or F1_* variable but its home).
PLAIN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "F1_"))}


def _timed(command: list[str], env: dict[str, str], server_pid: int | None = None) -> dict:
    """Run ``command``; its wall seconds and the peak resident bytes of its process tree."""
    launched, start = time.time(), time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip
    with PeakMemory(lambda: [proc.pid, *([server_pid] if server_pid else [])]) as memory:
        out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}):\n{err[-3000:]}")
    return {"seconds": seconds, "peak": memory.peak, "out": out, "launched": launched}


def _f1_run(root: Path, home: Path, server: WarmEngine | None = None) -> dict:
    """`f1-pipeline run` on a fresh copy of ``root`` (only source-data/ kept), a fresh home."""
    for entry in root.iterdir():
        if entry.is_dir() and entry.name != "source-data":
            shutil.rmtree(entry)
        elif not entry.is_dir():
            entry.unlink()
    shutil.rmtree(home, ignore_errors=True)
    env = {**BASE_ENV, "F1_DATA_ROOT": str(root), "DAGSTER_HOME": str(home)}
    if server is not None:
        env.update(F1_SPARK_REMOTE=server.url, SPARK_CONNECT_AUTHENTICATE_TOKEN=server.token)
    result = _timed([CLI, "run"], env, server.pid if server is not None else None)
    if not any(line.startswith("summary:") for line in result["out"].splitlines()):
        raise SystemExit(f"f1-pipeline run printed no summary line:\n{result['out'][-2000:]}")
    return result


def _reference(engine: str, source: Path, out: Path, home: Path) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    command = [PY, str(BENCH / "reference_dagster.py"), engine, *_csvs(source), str(out)]
    return _timed(command, {**PLAIN_ENV, "DAGSTER_HOME": str(home)})


def _csvs(source: Path) -> list[str]:
    return [str(source / "races.csv"), str(source / "results.csv")]


def _agree(ours: Path, pandas: Path) -> bool:
    names = sorted(p.name for p in pandas.glob("stats_*.json"))
    if not names or names != sorted(p.name for p in ours.glob("stats_*.json")):
        return False
    sample = names[:: len(names) // 200] if len(names) > 1000 else names
    return all(json.loads((ours / n).read_text()) == json.loads((pandas / n).read_text())
               for n in sample)  # fmt: skip


def _spark(home: Path, action: str) -> None:
    env = {**BASE_ENV, "DAGSTER_HOME": str(home)}
    done = subprocess.run([CLI, "spark", action], env=env, capture_output=True, text=True)
    if action == "start" and done.returncode != 0:
        raise SystemExit(f"f1-pipeline spark start failed:\n{done.stderr[-2000:]}")


def _measure(scale: str, base: Path, repeat: int, server: WarmEngine) -> dict:
    """Every mode ``repeat`` times, interleaved; per mode its results, in order."""
    shutil.rmtree(base, ignore_errors=True)
    source = base / "data" / "source-data"
    seasons, _, results = write_scale(scale, source)
    runs: dict[str, list[dict]] = {mode: [] for mode in MODES}
    for i in range(repeat):
        pandas_out = base / f"pandas-{i}"
        shutil.rmtree(pandas_out, ignore_errors=True)
        command = [PY, str(BENCH / "naive_pandas.py"), *_csvs(source), str(pandas_out)]
        runs["pandas"].append({**_timed(command, BASE_ENV), "agree": None})
        for mode in PLAIN:
            ref = base / f"{mode}-{i}"
            reference = _reference(mode.split("-")[1], source, ref / "out", ref / "home")
            runs[mode].append({**reference, "agree": _agree(ref / "out", pandas_out)})
        for mode, warm in (("cold", None), ("warm", server)):
            run = _f1_run(base / "data", base / f"{mode}-{i}" / "home", warm)
            runs[mode].append({**run, "agree": _agree(base / "data" / "results", pandas_out)})
    return {"scale": scale, "seasons": seasons, "results": results, "runs": runs}


def _row(measured: dict, mode: str, medians: dict[str, float]) -> str:
    runs = measured["runs"][mode]
    seconds = [r["seconds"] for r in runs]
    agree = "-" if mode == "pandas" else "yes" if all(r["agree"] for r in runs) else "NO"
    peak = statistics.median(r["peak"] for r in runs) / 2**20
    ratios = "".join(f"{medians[mode] / medians[plain]:>11.2f}" for plain in PLAIN)
    spread = f"{min(seconds):.2f}-{max(seconds):.2f}"
    size = f"{label(measured['scale']):>6} {measured['seasons']:>8} {measured['results']:>9}"
    return f"{size} {mode:<11}{medians[mode]:>9.2f} {spread:^14}{ratios}{peak:>9.0f}  {agree}"


def bench_scales(
    scales: list[str], repeat: int, out: Path, actions: list[str], events: list[str]
) -> None:
    from f1_pipeline.core.spark import Engine

    # One class archive for every JVM here, as on a user's machine: recorded by a first cold
    # run (once per Java and Spark install), mapped by the later ones and the server.
    classes = out / "spark-classes"
    shutil.rmtree(classes, ignore_errors=True)
    BASE_ENV["F1_SPARK_CLASSES"] = str(classes)
    first = out / "first-cold"
    shutil.rmtree(first, ignore_errors=True)
    write_scale("1", first / "data" / "source-data")
    recorded = _f1_run(first / "data", first / "home")
    print(f"first cold run (records the JVM class archive, once per install): "
          f"{recorded['seconds']:.1f}s", flush=True)  # fmt: skip
    engine_home = out / "engine_home"
    shutil.rmtree(engine_home, ignore_errors=True)
    started = time.perf_counter()
    _spark(engine_home, "start")
    print(f"Spark Connect server started (and warmed up) in {time.perf_counter() - started:.1f}s")
    server = Engine(engine_home).warm()
    if server is None:
        raise SystemExit(f"no Spark Connect server running for {engine_home}")
    try:
        warmup = out / "warmup"
        write_scale("1", warmup / "data" / "source-data")
        _f1_run(warmup / "data", warmup / "home", server)  # the server's first real run
        columns = f"{'command':<11}{'median s':>9} {'min-max s':^14}"
        ratios = f"{'x dg-pandas':>11}{'x dg-spark':>11}{'peak MB':>9}"
        print(f"\n{'scale':>6} {'seasons':>8} {'results':>9} {columns}{ratios}  agree")
        measured = []
        for scale in scales:
            result = _measure(scale, out / label(scale), repeat, server)
            medians = {m: statistics.median(r["seconds"] for r in result["runs"][m]) for m in MODES}
            for mode in MODES:
                print(_row(result, mode, medians), flush=True)
            measured.append(result)
        _print_breakdowns(out, measured)
    finally:
        _spark(engine_home, "stop")
    if actions:
        command = [PY, str(BENCH / "spark_jobs.py"), "--scales", ",".join(actions),
                   "--out", str(out / "jobs")]  # fmt: skip
        subprocess.run(command, env=BASE_ENV, check=True)
    if events:
        command = [PY, str(BENCH / "events.py"), "--scales", ",".join(events),
                   "--out", str(out / "events")]  # fmt: skip
        subprocess.run(command, env=BASE_ENV, check=True)


def _print_breakdowns(out: Path, measured: list[dict]) -> None:
    """The first run of each f1-pipeline mode and of dg-pyspark, per scale: from the
    process's launch to its exit (the run's part from Dagster's event log)."""
    homes = {}
    for result in measured:
        name = label(result["scale"])
        for mode in ("dg-pyspark", "cold", "warm"):
            run = result["runs"][mode][0]
            homes[(name, mode)] = (out / name / f"{mode}-0" / "home", run["launched"],
                                   run["launched"] + run["seconds"])  # fmt: skip
    found = breakdowns(list(homes.values()), BASE_ENV)
    print("\nwhere the time goes (the first run of each; Dagster's event log):")
    for (name, mode), (home, _, _) in homes.items():
        print(f"  {name} {mode}:")
        for line in found.get(str(home), []):
            print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,full,1000", help="of 1, 100, 1000, full")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per command")
    parser.add_argument("--actions", default="1,full", help="scales of the Spark job counts")
    parser.add_argument("--events", default="full,100", help="scales of the event log's cost")
    parser.add_argument("--latency-runs", type=int, default=5, help="per sensor and shape")
    parser.add_argument("--no-latency", action="store_true", help="skip upload -> published")
    parser.add_argument(
        "--latency-shapes", default="ui,team", help="deployments of upload -> published: ui, team"
    )
    parser.add_argument("--out", type=Path, default=BENCH / "out")
    args = parser.parse_args()
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    scales = [s for s in args.scales.split(",") if s]
    actions = [s for s in args.actions.split(",") if s]
    events = [s for s in args.events.split(",") if s]
    shapes = tuple(s for s in args.latency_shapes.split(",") if s)
    if not args.no_latency and (not shapes or set(shapes) - {"ui", "team"}):
        parser.error(f"--latency-shapes {args.latency_shapes}: some of ui, team")
    if scales:  # --scales '' measures the latency alone
        bench_scales(scales, args.repeat, args.out, actions, events)
    if not args.no_latency:
        from bench.latency import bench_latency

        runs = args.latency_runs
        bench_latency(args.out / "latency", SAMPLE, runs=runs, shapes=shapes)
        bench_latency(args.out / "latency-queue", SAMPLE, queue=True, runs=runs, shapes=shapes)


if __name__ == "__main__":
    main()
