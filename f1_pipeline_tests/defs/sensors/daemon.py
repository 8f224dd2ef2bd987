"""Dagster's own daemon loops, driven round by round in the test's process: the sensor daemon
(run keys honoured, cursors, dynamic partition requests, asset events), the run queue (run
limits, the pools) and a run launcher that executes each launched run here, synchronously.

The code location is loaded as the daemon loads it (a code server in a process of its own,
from a Python file building the definitions for this test's settings); runs execute in this
process, on the suite's Spark. Dagster's test utilities are private modules: tests may use
them, the package may not.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from pathlib import Path

from dagster import DagsterInstance, DagsterRun, instance_for_test
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.workspace.load_target import PythonFileTarget
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)
from dagster._daemon.sensor import execute_sensor_iteration

from f1_pipeline.defs.constants import POOL_LIMITS
from f1_pipeline.defs.instance import set_pool_limits

# As the instance template, with the run launcher a test's: each run executes in the test.
INSTANCE = {
    "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator"},
    "run_launcher": {
        "module": "dagster._core.launcher.sync_in_memory_run_launcher",
        "class": "SyncInMemoryRunLauncher",
    },
    "concurrency": {
        "runs": {"max_concurrent_runs": 3},
        "pools": {"granularity": "op", "default_limit": 1},
    },
}

DEFINITIONS = """\
import json, os
from f1_pipeline.definitions import build_definitions

defs = build_definitions({{**os.environ, **json.loads({env!r})}})
"""

LOG = logging.getLogger("f1_pipeline_tests.daemon")


class Daemon:
    """The instance and the daemon's loops over the code location of ``env`` (its variables)."""

    def __init__(self, instance: DagsterInstance, workspace) -> None:
        self.instance, self.workspace = instance, workspace
        self._next_round = 0.0

    def round(self) -> list[DagsterRun]:
        """One sensor round, then the run queue; the runs launched (ended: they run here),
        oldest first. Rounds are at least a second apart (the sensors' minimum interval)."""
        time.sleep(max(0.0, self._next_round - time.monotonic()))
        before = {r.run_id for r in self.instance.get_runs()}
        list(execute_sensor_iteration(self.workspace, LOG, None, None))
        # A tick is stamped when its sensor is evaluated, anywhere in the round: the next
        # round waits a full interval after this one ends.
        self._next_round = time.monotonic() + 1.05
        list(QueuedRunCoordinatorDaemon(interval_seconds=1).run_iteration(self.workspace))
        return list(reversed([r for r in self.instance.get_runs() if r.run_id not in before]))

    def settle(self, rounds: int = 6) -> list[DagsterRun]:
        """Rounds until one launches nothing; every run launched meanwhile, oldest first."""
        runs: list[DagsterRun] = []
        for _ in range(rounds):
            new = self.round()
            runs += new
            if not new:
                break
        return runs

    def skip_reason(self, sensor: str) -> str:
        """What the sensor's latest tick said it waits for."""
        from dagster._core.scheduler.instigation import InstigatorType

        states = self.instance.all_instigator_state(instigator_type=InstigatorType.SENSOR)
        state = next(s for s in states if s.instigator_name == sensor)
        ticks = self.instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=1)
        return (ticks[0].skip_reason or "") if ticks else ""


@contextmanager
def daemon(tmp_path: Path, env: Mapping[str, str]) -> Iterator[Daemon]:
    """A fresh instance (pools as the template sets them) and the daemon's view of the code
    location built from ``env`` (over the process environment)."""
    defs_file = tmp_path / f"f1_definitions_{time.monotonic_ns()}.py"
    defs_file.write_text(DEFINITIONS.format(env=json.dumps(dict(env))))
    with ExitStack() as stack:
        instance = stack.enter_context(instance_for_test(overrides=INSTANCE))
        set_pool_limits(instance)
        assert {p.name for p in instance.event_log_storage.get_pool_limits()} >= set(POOL_LIMITS)
        target = PythonFileTarget(
            python_file=str(defs_file),
            attribute="defs",
            working_directory=str(tmp_path),
            location_name="f1_pipeline",
        )
        workspace = stack.enter_context(create_test_daemon_workspace_context(target, instance))
        yield Daemon(instance, workspace)
