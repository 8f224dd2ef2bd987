"""What a rollback costs: on a fresh local root, upload A published, then B (one race's
winner swapped with the runner-up: a wrong winner that passes every check) published, then
``f1-pipeline rollback A``; each as a whole command, timed, at the sample and the full export.

    python bench/rollback.py [--scales 1,full]

Prints per scale the seconds of A, B and the rollback, and whether every published file is
byte-identical to A's afterwards (it must be).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.scale import label, write_scale  # noqa: E402

CLI = str(Path(sys.executable).with_name("f1-pipeline"))


def wrong_winner(results_csv: Path) -> None:
    """Swap positions 1 and 2 of the last race that has both."""
    text = results_csv.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    col = {name: i for i, name in enumerate(rows[0])}
    podium: dict[str, dict[str, list[str]]] = {}
    for row in rows[1:]:
        if row[col["position"]] in ("1", "2"):
            podium.setdefault(row[col["raceId"]], {})[row[col["position"]]] = row
    race = max((r for r, p in podium.items() if len(p) == 2), key=int)
    first, second = podium[race]["1"], podium[race]["2"]
    first[col["position"]], second[col["position"]] = "2", "1"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    results_csv.write_text(out.getvalue(), encoding="utf-8")


def _published(data: Path) -> dict[str, bytes]:
    results = data / "results"
    return {str(p.relative_to(results)): p.read_bytes() for p in results.rglob("stats_*.json")}


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[1:])} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started, done.stdout


def measure(scale: str, out: Path) -> dict:
    base = out / label(scale)
    shutil.rmtree(base, ignore_errors=True)
    source = base / "data" / "source-data"
    write_scale(scale, source)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("F1_", "DAGSTER_"))}
    classes = os.environ.get("F1_SPARK_CLASSES", str(out / "classes"))
    env.update(DAGSTER_HOME=str(base / "home"), F1_DATA_ROOT=str(base / "data"),
               F1_LATEST_SEASON="9999", DAGSTER_DISABLE_TELEMETRY="1",
               F1_SPARK_CLASSES=classes)  # fmt: skip
    a_seconds, _ = _timed([CLI, "run"], env)
    a_files = _published(base / "data")
    from f1_pipeline.core.storage import open_storage, parse_data_root
    from f1_pipeline.core.upload import look

    upload = look(open_storage(parse_data_root(str(base / "data")))).upload
    wrong_winner(source / "results.csv")
    b_seconds, _ = _timed([CLI, "run"], env)
    changed = sum(a_files[k] != v for k, v in _published(base / "data").items())
    back_seconds, _ = _timed([CLI, "rollback", upload], env)
    same = _published(base / "data") == a_files
    return {"scale": label(scale), "a": a_seconds, "b": b_seconds, "b_changed": changed,
            "rollback": back_seconds, "identical": same}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,full")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "rollback")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    print(f"{'scale':>6} {'A s':>6} {'B s':>6} {'B files':>8} {'rollback s':>11}  identical to A")
    for scale in (s for s in args.scales.split(",") if s):
        m = measure(scale, out)
        same = "yes" if m["identical"] else "NO"
        print(f"{m['scale']:>6} {m['a']:>6.1f} {m['b']:>6.1f} {m['b_changed']:>8} "
              f"{m['rollback']:>11.1f}  {same}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
