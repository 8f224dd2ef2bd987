"""What users wait for, against the naive pandas script measured in the same invocation.

    python bench/run_bench.py [--scales 1,100,1000] [--no-latency]

For each scale (the sample replicated into new seasons, see ``scale.py``):
- pandas: the naive script (``f1_pipeline_tests/reference_pandas.py``), in this process;
- cold: ``f1-pipeline run`` with no Spark server (a fresh Dagster home, the embedded session
  mapping the JVM class archive a first cold run recorded: its time is printed first);

- warm: ``f1-pipeline run`` with the warm Spark Connect server (started once, warmed up on
  the sample first), a fresh Dagster home too;
each with the peak resident memory of its whole process tree (the JVM included; the warm
figure includes the server's JVM) and a breakdown of where the time went (Dagster's event
log: run creation, the steps' own phases, the partition events).
Then, unless --no-latency: upload -> all stats published, and one changed 2024 result ->
stats_2024.json republished, through a real `dagster dev` daemon (with the warm server, as
`make ui` runs it) against moto's S3 server on loopback: with the listing sensor, then with
uploads pushed through S3 event notifications on SQS (F1_SOURCE_QUEUE_URL).

Benchmarks only: no test asserts on these numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.proctree import PeakMemory  # noqa: E402
from bench.scale import write_scaled  # noqa: E402
from f1_pipeline_tests.reference_pandas import write_stats  # noqa: E402

SAMPLE = REPO / "data" / "source-data"
CLI = str(Path(sys.executable).with_name("f1-pipeline"))
BASE_ENV = {
    **os.environ,
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "F1_LATEST_SEASON": "9999",  # scaled copies run far past next year
}
BASE_ENV.pop("F1_SPARK_REMOTE", None)


def _run(root: Path, home: Path, remote: str | None, server_pid: int | None) -> dict:
    """`f1-pipeline run` on a fresh copy of ``root``'s sources; seconds, peak bytes."""
    for layer in ("cleaned", "results"):
        shutil.rmtree(root / layer, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    env = {**BASE_ENV, "F1_DATA_ROOT": str(root), "DAGSTER_HOME": str(home)}
    if remote:
        env["F1_SPARK_REMOTE"] = remote
    start = time.perf_counter()
    proc = subprocess.Popen(
        [CLI, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    roots = [proc.pid] + ([server_pid] if server_pid else [])
    with PeakMemory(lambda: roots) as memory:
        out, err = proc.communicate()
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"f1-pipeline run failed:\n{err[-3000:]}")
    return {"seconds": seconds, "peak": memory.peak, "breakdown": _breakdown(home), "out": out}


def _breakdown(home: Path) -> list[str]:
    """Per run: run creation (planned events), the steps' phases, the partition events."""
    code = f"""
import json, os
os.environ["DAGSTER_HOME"] = {str(home)!r}
from dagster import DagsterEventType as T, DagsterInstance
out = []
with DagsterInstance.get() as instance:
    for run in reversed(instance.get_runs()):
        logs = instance.all_logs(run.run_id)
        t0 = logs[0].timestamp
        def at(kind):
            return [e.timestamp - t0 for e in logs if e.dagster_event_type == kind]
        start, end = at(T.RUN_START), at(T.RUN_SUCCESS) or at(T.RUN_FAILURE)
        mats = at(T.ASSET_MATERIALIZATION)
        phases = [e.user_message for e in logs if " phases: " in (e.user_message or "")]
        out.append(
            f"{{run.job_name}} {{end[0]:.1f}}s: created in {{start[0]:.1f}}s"
            f" ({{len(at(T.ASSET_MATERIALIZATION_PLANNED))}} planned events),"
            f" {{len(mats)}} materialisation events in {{(mats[-1] - mats[0]) if mats else 0:.1f}}s"
            + "".join(f"; {{p}}" for p in phases)
        )
print(json.dumps(out))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=BASE_ENV, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _agree(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.glob("stats_*.json"))
    if names != sorted(p.name for p in b.glob("stats_*.json")):
        return False
    sample = names[:: max(1, len(names) // 5)]
    return all(json.loads((a / n).read_text()) == json.loads((b / n).read_text()) for n in sample)


def _spark(home: Path, action: str) -> str:
    env = {**BASE_ENV, "DAGSTER_HOME": str(home)}
    done = subprocess.run([CLI, "spark", action], env=env, capture_output=True, text=True)
    if action == "start" and done.returncode != 0:
        raise SystemExit(f"f1-pipeline spark start failed:\n{done.stderr[-2000:]}")
    return done.stdout


def _server(home: Path) -> tuple[str, int]:
    from f1_pipeline.core.engine import running_server

    server = running_server(home)
    if server is None:
        raise SystemExit(f"no Spark Connect server running for {home}")
    return server.url, server.pid


def bench_scales(scales: list[int], out: Path) -> None:
    # One class archive for every JVM here, as on a user's machine: recorded by a first cold
    # run (once per Java and Spark install), mapped by the later ones and the server.
    classes = out / "spark-classes"
    shutil.rmtree(classes, ignore_errors=True)
    BASE_ENV["F1_SPARK_CLASSES"] = str(classes)
    first = out / "first-cold"
    write_scaled(SAMPLE, first / "data" / "source-data", 1)
    recorded = _run(first / "data", first / "home", None, None)
    print(
        f"first cold run (records the JVM class archive, once per install): "
        f"{recorded['seconds']:.1f}s",
        flush=True,
    )
    engine_home = out / "engine_home"
    shutil.rmtree(engine_home, ignore_errors=True)
    started = time.perf_counter()
    _spark(engine_home, "start")

    print(f"Spark Connect server started in {time.perf_counter() - started:.1f}s", flush=True)
    remote, server_pid = _server(engine_home)
    try:
        warmup = out / "warmup"
        write_scaled(SAMPLE, warmup / "data" / "source-data", 1)
        _run(warmup / "data", warmup / "home", remote, server_pid)  # the server's first query

        header = (f"{'scale':>6} {'seasons':>8} {'results':>9} {'pandas s':>9} {'cold s':>7} "
                  f"{'cold x':>7} {'warm s':>7} {'warm x':>7} {'cold MB':>8} {'warm MB':>8}"
                  "  agree")  # fmt: skip
        print(header, flush=True)
        details = []
        for factor in scales:
            base = out / f"x{factor}"
            shutil.rmtree(base, ignore_errors=True)
            _, results = write_scaled(SAMPLE, base / "data" / "source-data", factor)
            start = time.perf_counter()
            write_stats(
                base / "data/source-data/races.csv",
                base / "data/source-data/results.csv",
                base / "pandas-results",
            )
            pandas_s = time.perf_counter() - start
            cold = _run(base / "data", base / "cold_home", None, None)
            warm = _run(base / "data", base / "warm_home", remote, server_pid)
            agree = _agree(base / "data" / "results", base / "pandas-results")
            print(
                f"{'x' + str(factor):>6} {7 * factor:>8} {results:>9} {pandas_s:>9.2f} "
                f"{cold['seconds']:>7.1f} {cold['seconds'] / pandas_s:>7.1f} "
                f"{warm['seconds']:>7.1f} {warm['seconds'] / pandas_s:>7.1f} "
                f"{cold['peak'] / 2**20:>8.0f} {warm['peak'] / 2**20:>8.0f}  {agree}",
                flush=True,
            )
            details.append((factor, cold, warm))
        print("\nwhere the time goes (Dagster's event log):")
        for factor, cold, warm in details:
            for label, result in (("cold", cold), ("warm", warm)):
                print(f"  x{factor} {label}:")
                for line in result["breakdown"]:
                    print(f"    {line}")
    finally:
        _spark(engine_home, "stop")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,100,1000")
    parser.add_argument("--no-latency", action="store_true", help="skip the dagster dev part")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    bench_scales([int(x) for x in args.scales.split(",") if x], args.out)
    if not args.no_latency:
        from bench.latency import bench_latency

        bench_latency(args.out / "latency", SAMPLE)
        bench_latency(args.out / "latency-queue", SAMPLE, queue=True)


if __name__ == "__main__":
    main()
