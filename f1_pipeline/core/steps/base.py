"""What a step receives and returns."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from pyspark.sql import SparkSession

from f1_pipeline.core.steps.io import SparkIO
from f1_pipeline.core.storage import Storage


class StepLog(Protocol):
    """Dagster's logger locally, the Pipes logger on Glue."""

    def info(self, msg: str, *args: Any) -> None: ...

    def warning(self, msg: str, *args: Any) -> None: ...


@dataclass(frozen=True)
class CheckOutcome:
    """A data-quality check's result; ``metadata`` is in the Pipes metadata format."""

    asset: str  # the asset key as a user string, e.g. "cleaned/races"
    name: str
    passed: bool
    metadata: Mapping[str, Any]


@dataclass(frozen=True)
class StepResult:
    """``materializations``: per asset (its key as a user string) the metadata (Pipes
    format) of its materialisation; ``data`` is what the orchestrator acts on (e.g. the
    seasons found)."""

    materializations: Mapping[str, Mapping[str, Any]]
    data: Mapping[str, Any] = field(default_factory=dict)


class Phases:
    """Where a step's time goes: seconds per named phase, in the order first entered."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def summary(self) -> str:
        return ", ".join(f"{name} {s:.2f}s" for name, s in self.seconds.items())


@dataclass(frozen=True)
class StepContext:
    storage: Storage
    session: SparkSession
    io: SparkIO
    log: StepLog
    run_id: str
    # Called as soon as a check is evaluated, before anything is published.
    report_check: Callable[[CheckOutcome], None]
    phase: Phases = field(default_factory=Phases)
