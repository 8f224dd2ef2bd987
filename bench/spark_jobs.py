"""Spark jobs and stages per step and phase: the pipeline's two steps run directly (no
Dagster) on an in-process session with a run's own settings, each phase (``ctx.phase``) in a
Spark job group of its own, counted with the SparkContext's status tracker.

    python bench/spark_jobs.py [--scales 1,full] [--out bench/out/jobs]

For each scale, on a fresh copy of its data, twice in one session (``cold``: the session's
first steps, ``warm``: the same steps again on a fresh copy, as a warm engine runs them):
``ingest``, then ``season_stats`` over every season; per step and phase its jobs, its stages
(run; skipped ones, whose shuffle output was reused, in brackets) and seconds. Jobs outside
any phase are counted under ``(between phases)``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.scale import label, write_scale  # noqa: E402
from f1_pipeline.core.steps.base import Phases  # noqa: E402

OUTSIDE = "(between phases)"


class GroupedPhases(Phases):
    """Phases whose Spark jobs run in a job group named after the step and the phase."""

    def __init__(self, sc, step: str) -> None:
        super().__init__(announce=lambda text: None)
        self.sc, self.step, self.groups = sc, step, [OUTSIDE]
        self._group(OUTSIDE)

    def _group(self, name: str) -> None:
        self.sc.setJobGroup(f"{self.step}/{name}", name)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if name not in self.groups:
            self.groups.append(name)
        self._group(name)
        try:
            with super().__call__(name):
                yield
        finally:
            self._group(OUTSIDE)


def count(sc, step: str, groups: list[str]) -> list[tuple[str, int, int, int]]:
    """Per group of ``step``: its jobs, the stages run and the stages skipped."""
    tracker, counted = sc.statusTracker(), []
    for name in groups:
        jobs = tracker.getJobIdsForGroup(f"{step}/{name}")
        stages = {s for j in jobs if (info := tracker.getJobInfo(j)) for s in info.stageIds}
        ran = {s for s in stages if (st := tracker.getStageInfo(s)) and st.numCompletedTasks}
        if jobs:
            counted.append((name, len(jobs), len(ran), len(stages - ran)))
    return counted


def run_steps(session, root: Path, tag: str) -> list[tuple[str, float, list]]:
    from f1_pipeline.core.steps import StepContext, run_step
    from f1_pipeline.core.steps.io import LocalStagedIO
    from f1_pipeline.core.storage import LocalStorage

    storage = LocalStorage(root)
    log = logging.getLogger("bench.spark_jobs")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    sc, done = session.sparkContext, []
    params: dict = {"latest_season": 9999}  # the replicas run far past next year
    for step in ("ingest", "season_stats"):
        phases = GroupedPhases(sc, f"{tag}/{step}")
        ctx = StepContext(storage, session, LocalStagedIO(storage), log, "bench", lambda c: None,
                          phases)  # fmt: skip
        start = time.perf_counter()
        result = run_step(step, ctx, params)
        seconds = time.perf_counter() - start
        done.append((step, seconds, [(*c, phases.seconds.get(c[0])) for c in
                                     count(sc, f"{tag}/{step}", phases.groups)]))  # fmt: skip
        params = {"seasons": list(result.data["seasons"])}
    return done


def bench_jobs(scales: list[str], out: Path) -> None:
    from f1_pipeline.core.spark import Engine, local_session

    sources = {}
    for scale in scales:
        sources[scale] = out / label(scale) / "source-data"
        shutil.rmtree(sources[scale].parent, ignore_errors=True)
        write_scale(scale, sources[scale])
    size = max(sum(f.stat().st_size for f in s.iterdir()) for s in sources.values())
    started = time.perf_counter()
    classes = os.environ.get("F1_SPARK_CLASSES")  # run_bench.py's shared class archive
    engine = Engine(out / "home", classes=Path(classes) if classes else None)
    session = local_session(engine.session_config(None, size))
    print(f"\nSpark jobs and stages per step (the steps alone, one in-process session, "
          f"started in {time.perf_counter() - started:.1f}s):")  # fmt: skip
    print(f"  {'scale':<6} {'pass':<5} {'step / phase':<28}{'jobs':>5} {'stages':>10} {'s':>7}")
    try:
        for scale in scales:
            for tag in ("cold", "warm"):
                root = out / label(scale) / tag
                shutil.rmtree(root, ignore_errors=True)
                shutil.copytree(sources[scale], root / "source-data")
                for step, seconds, groups in run_steps(session, root, f"{scale}/{tag}"):
                    jobs = sum(g[1] for g in groups)
                    ran, skipped = sum(g[2] for g in groups), sum(g[3] for g in groups)
                    print(f"  {label(scale):<6} {tag:<5} {step:<28}{jobs:>5} "
                          f"{f'{ran} [{skipped}]':>10} {seconds:>7.2f}")  # fmt: skip
                    for name, n, r, s, phase_seconds in groups:
                        took = f"{phase_seconds:>7.2f}" if phase_seconds is not None else ""
                        print(f"  {'':<12}   {name:<26}{n:>5} {f'{r} [{s}]':>10} {took}")
    finally:
        session.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,full")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "jobs")
    args = parser.parse_args()
    bench_jobs([s for s in args.scales.split(",") if s], args.out.resolve())


if __name__ == "__main__":
    main()
