"""The steps by name: the name is what a Glue job run is told to do."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from f1_pipeline.core.steps.base import StepContext, StepResult
from f1_pipeline.core.steps.ingest import ingest_step
from f1_pipeline.core.steps.stats import season_stats_step

Step = Callable[[StepContext, Mapping[str, Any]], StepResult]

STEPS: dict[str, Step] = {
    "ingest": ingest_step,
    "season_stats": season_stats_step,
}


def run_step(name: str, ctx: StepContext, params: Mapping[str, Any]) -> StepResult:
    try:
        step = STEPS[name]
    except KeyError:
        raise ValueError(f"unknown step {name!r}; known: {', '.join(STEPS)}") from None
    result = step(ctx, params)
    if ctx.phase.seconds:
        ctx.log.info(f"{name} phases: {ctx.phase.summary()}")
    return result
