"""Where a command's time went, read from its Dagster home's event log (the instance's public
API) and the command's launch and exit times.

    python bench/breakdown.py DAGSTER_HOME:LAUNCHED:ENDED...   (epoch seconds)

Per command: from its launch to its first run's creation (Python's start, imports, the
definitions and the instance, the plan; a JVM started ahead runs meanwhile); per run its job
and length (creation to RUN_SUCCESS), how long from its creation to RUN_START and how many
ASSET_MATERIALIZATION_PLANNED events it wrote, the ASSET_MATERIALIZATION events (how many,
from the first to the last, and per event), and each step's time from STEP_START to
STEP_SUCCESS (or STEP_FAILURE) with the ``phases: ...`` lines the steps log (each Spark
action's phase); then from the last run's end to the command's exit. Read in a child process
(Dagster imported there only, one home after the other) by :func:`breakdowns`; prints one
JSON object: home -> lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _runs(home: Path, launched: float, ended: float) -> list[str]:
    from dagster import DagsterEventType as T
    from dagster import DagsterInstance

    os.environ["DAGSTER_HOME"] = str(home.resolve())
    lines: list[str] = []
    last_end = None
    with DagsterInstance.get() as instance:
        for record in reversed(instance.get_run_records()):
            if not lines:
                created = record.create_timestamp.timestamp()
                lines.append(f"launch to the run's creation: {created - launched:.1f}s")
            run = record.dagster_run
            logs = instance.all_logs(run.run_id)
            t0 = min([record.create_timestamp.timestamp(), *(e.timestamp for e in logs[:1])])

            def at(kind: T, logs: list = logs, t0: float = t0) -> list[float]:
                return [e.timestamp - t0 for e in logs if e.dagster_event_type == kind]

            end = at(T.RUN_SUCCESS) or at(T.RUN_FAILURE) or [float("nan")]
            last_end = t0 + end[0]
            start, mats = at(T.RUN_START) or [float("nan")], at(T.ASSET_MATERIALIZATION)
            planned = len(at(T.ASSET_MATERIALIZATION_PLANNED))
            span = (mats[-1] - mats[0]) if mats else 0.0
            each = f" ({span / (len(mats) - 1) * 1000:.1f} ms each)" if len(mats) > 1 else ""
            lines.append(
                f"{run.job_name} {end[0]:.1f}s: started {start[0]:.1f}s after its creation "
                f"({planned} planned events); {len(mats)} materialisation events over "
                f"{span:.1f}s{each}"
            )
            inits = at(T.RESOURCE_INIT_STARTED), at(T.RESOURCE_INIT_SUCCESS)
            if inits[0] and inits[1]:
                lines.append(f"  resources initialised in {inits[1][-1] - inits[0][0]:.1f}s")
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
    if last_end is not None:
        lines.append(f"the last run's end to the exit: {ended - last_end:.1f}s")
    return lines


def breakdowns(
    commands: list[tuple[Path, float, float]], env: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """Each (home, launched, ended) command's breakdown, read in a child process."""
    homes = [home for home, _, _ in commands]
    done = subprocess.run(
        [sys.executable, __file__, *(f"{h}:{a}:{b}" for h, a, b in commands)],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode != 0:
        return {str(h): [f"(event log unreadable: {done.stderr[-500:]})"] for h in homes}
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    found = {}
    for arg in sys.argv[1:]:
        home, launched, ended = arg.rsplit(":", 2)
        found[home] = _runs(Path(home), float(launched), float(ended))
    print(json.dumps(found))
