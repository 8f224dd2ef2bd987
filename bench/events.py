"""What Dagster's per-season records cost: ``f1-pipeline run`` on a fresh home with Dagster's
storage in SQLite (the embedded default) and in PostgreSQL (the team set-up's: a throwaway
server on loopback, fsync on), at the full export (75 seasons) and x100 (700 seasons).

    python bench/events.py [--scales full,100] [--storages sqlite,postgres]

Per storage and scale, from the run's event log: the season materialisation events, their
span (first to last) and the cost of one (span / (events - 1)), the planned events, and the
median size of one season's event metadata (its JSON), so a change in what a season's event
carries shows in both.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.scale import label, write_scale  # noqa: E402

CLI = str(Path(sys.executable).with_name("f1-pipeline"))


@contextmanager
def _postgres() -> Iterator[dict[str, str]]:
    from f1_pipeline_tests.postgres import postgres_server

    with postgres_server(fast=False) as cluster:
        yield {"F1_DAGSTER_STORAGE": "postgres", **cluster.env()}


def _event_costs(home: Path, env: dict[str, str]) -> dict:
    """Read in a child process (Dagster's instance opened there): the season events."""
    code = """
import json, statistics
from dagster import DagsterEventType as T, DagsterInstance
with DagsterInstance.get() as instance:
    out = {}
    for record in instance.get_run_records():
        logs = instance.all_logs(record.dagster_run.run_id)
        mats = [e for e in logs if e.dagster_event_type == T.ASSET_MATERIALIZATION
                and e.dagster_event.partition]
        if not mats:
            continue
        sizes = [len(json.dumps({k: str(v) for k, v in
                 e.dagster_event.step_materialization_data.materialization.metadata.items()}))
                 for e in mats]
        out = {"events": len(mats), "span": mats[-1].timestamp - mats[0].timestamp,
               "planned": sum(e.dagster_event_type == T.ASSET_MATERIALIZATION_PLANNED
                              for e in logs),
               "bytes": statistics.median(sizes)}
    print(json.dumps(out))
"""
    done = subprocess.run([sys.executable, "-c", code], env={**env, "DAGSTER_HOME": str(home)},
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(scale: str, storage: str, out: Path, pg: dict[str, str]) -> dict:
    base = out / f"{label(scale)}-{storage}"
    shutil.rmtree(base, ignore_errors=True)
    write_scale(scale, base / "data" / "source-data")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("F1_", "DAGSTER_"))}
    env.update(DAGSTER_HOME=str(base / "home"), F1_DATA_ROOT=str(base / "data"),
               F1_LATEST_SEASON="9999", DAGSTER_DISABLE_TELEMETRY="1", **pg)  # fmt: skip
    done = subprocess.run([CLI, "run"], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"f1-pipeline run failed:\n{done.stderr[-3000:]}")
    return _event_costs(base / "home", env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="full,100")
    parser.add_argument("--storages", default="sqlite,postgres")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "events")
    args = parser.parse_args()
    out = args.out.resolve()
    print("\nper-season materialisation events (f1-pipeline run, cold):")
    print(f"  {'storage':<9} {'scale':<6} {'events':>7} {'span s':>8} {'ms each':>8} "
          f"{'planned':>8} {'bytes':>7}")  # fmt: skip
    for storage in [s for s in args.storages.split(",") if s]:
        with _postgres() if storage == "postgres" else nullcontext({}) as pg:
            for scale in [s for s in args.scales.split(",") if s]:
                found = measure(scale, storage, out, pg)
                each = found["span"] / max(found["events"] - 1, 1) * 1000
                print(f"  {storage:<9} {label(scale):<6} {found['events']:>7} "
                      f"{found['span']:>8.2f} {each:>8.1f} {found['planned']:>8} "
                      f"{found['bytes']:>7.0f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
