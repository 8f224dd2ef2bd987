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


# Log lines that say how far a step is: the command line prints them as they come.
PROGRESS_PREFIX = "progress: "


class Phases:
    """Where a step's time goes: seconds per named phase, in the order first entered. With
    ``announce``, each phase's start and counted progress are announced as they happen."""

    def __init__(self, announce: Callable[[str], None] | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.announce = announce

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self.announce:
            self.announce(name)
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def counter(self, what: str, total: int, every: float = 1.0) -> Callable[[int], None]:
        """A callback taking how many of ``total`` ``what`` are done: announced at most once
        per ``every`` seconds, and when all are done."""
        last = time.monotonic()

        def done(count: int) -> None:
            nonlocal last
            now = time.monotonic()
            if self.announce and (count >= total or now - last >= every):
                last = now
                self.announce(f"{what}: {count}/{total}")

        return done

    def summary(self) -> str:
        return ", ".join(f"{name} {s:.2f}s" for name, s in self.seconds.items())


@dataclass(frozen=True)
class StepContext:
    storage: Storage
    # The Spark session, or what makes it on first use: a step with nothing to compute (an
    # upload already ingested, seasons already published) never waits for Spark.
    spark: SparkSession | Callable[[], SparkSession]
    io: SparkIO
    log: StepLog
    run_id: str
    # Called as soon as a check is evaluated, before anything is published.
    report_check: Callable[[CheckOutcome], None]
    phase: Phases = field(default_factory=Phases)
    _made: list[SparkSession] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if self.phase.announce is None:
            self.phase.announce = lambda text: self.log.info(f"{PROGRESS_PREFIX}{text}")

    @property
    def session(self) -> SparkSession:
        if isinstance(self.spark, SparkSession) or not callable(self.spark):
            return self.spark
        if not self._made:
            self._made.append(self.spark())
        return self._made[0]
