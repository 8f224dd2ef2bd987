"""Where a run's time went, read from a Dagster home's event log (the instance's public API).

    python bench/breakdown.py DAGSTER_HOME...

Per run: its job and length (creation to RUN_SUCCESS), how long from its creation to
RUN_START and how many ASSET_MATERIALIZATION_PLANNED events it wrote, the
ASSET_MATERIALIZATION events (how many, from the first to the last), and each step's time
from STEP_START to STEP_SUCCESS (or STEP_FAILURE) with the ``<step> phases: ...`` lines the
pipeline's steps log. Read
in a child process (Dagster imported there only, one home after the other) by
:func:`breakdowns`; prints one JSON object: home -> lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _runs(home: Path) -> list[str]:
    from dagster import DagsterEventType as T
    from dagster import DagsterInstance

    os.environ["DAGSTER_HOME"] = str(home.resolve())
    lines = []
    with DagsterInstance.get() as instance:
        for record in reversed(instance.get_run_records()):
            run = record.dagster_run
            logs = instance.all_logs(run.run_id)
            t0 = min([record.create_timestamp.timestamp(), *(e.timestamp for e in logs[:1])])

            def at(kind: T, logs: list = logs, t0: float = t0) -> list[float]:
                return [e.timestamp - t0 for e in logs if e.dagster_event_type == kind]

            end = at(T.RUN_SUCCESS) or at(T.RUN_FAILURE) or [float("nan")]
            start, mats = at(T.RUN_START) or [float("nan")], at(T.ASSET_MATERIALIZATION)
            planned = len(at(T.ASSET_MATERIALIZATION_PLANNED))
            lines.append(
                f"{run.job_name} {end[0]:.1f}s: started {start[0]:.1f}s after its creation "
                f"({planned} planned events); {len(mats)} materialisation events over "
                f"{(mats[-1] - mats[0]) if mats else 0:.1f}s"
            )
            began: dict[str, float] = {}
            phases: dict[str, list[str]] = {}
            for event in logs:
                kind, step = event.dagster_event_type, event.step_key
                if kind == T.STEP_START:
                    began[step] = event.timestamp
                elif kind in (T.STEP_SUCCESS, T.STEP_FAILURE) and step in began:
                    status = "" if kind == T.STEP_SUCCESS else " (failed)"
                    seconds = event.timestamp - began[step]
                    lines.append(f"  step {step}: {seconds:.1f}s{status}")
                    lines += [f"    {line}" for line in phases.pop(step, [])]
                elif " phases: " in (event.user_message or ""):
                    phases.setdefault(step, []).append(event.user_message)
    return lines


def breakdowns(homes: list[Path], env: dict[str, str] | None = None) -> dict[str, list[str]]:
    """Each home's run breakdown, read in a child process."""
    done = subprocess.run(
        [sys.executable, __file__, *map(str, homes)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        return {str(h): [f"(event log unreadable: {done.stderr[-500:]})"] for h in homes}
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(json.dumps({home: _runs(Path(home)) for home in sys.argv[1:]}))
