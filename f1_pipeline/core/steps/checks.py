"""Blocking data-quality checks, evaluated before anything is published."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from f1_pipeline.core.steps.base import CheckOutcome
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.quality import describe_violations

_EXAMPLES = 5


class ChecksFailed(InvalidInputError):
    """A blocking check failed: the data is refused, nothing derived from it is published."""


@dataclass(frozen=True)
class Check:
    """A blocking check: it passes when ``violations`` is empty. ``order`` names the column
    examples are ordered by (its first element for a list of source lines)."""

    asset: str
    name: str
    violations: DataFrame
    columns: Sequence[str]
    order: str


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def evaluate(checks: Sequence[Check]) -> list[CheckOutcome]:
    """Every check's violation count and first examples, in one Spark action (each action
    is a round trip, which costs most over Spark Connect)."""
    parts = []
    for i, check in enumerate(checks):
        row = F.to_json(F.struct(*[F.col(c) for c in check.columns]))
        sample = check.violations.limit(_EXAMPLES).select(
            F.lit(i).alias("_check"), row.alias("_row"), F.lit(None).cast("long").alias("_n")
        )
        count = check.violations.agg(F.count(F.lit(1)).alias("_n")).select(
            F.lit(i).alias("_check"), F.lit(None).cast("string").alias("_row"), "_n"
        )
        parts += [sample, count]
    collected = reduce(DataFrame.unionByName, parts).collect()
    outcomes = []
    for i, check in enumerate(checks):
        mine = [r for r in collected if r["_check"] == i]
        count = next(r["_n"] for r in mine if r["_row"] is None)
        found = [json.loads(r["_row"]) for r in mine if r["_row"] is not None]
        order = check.order
        found.sort(key=lambda example: _first(example[order]))
        metadata: dict = {"violations": count}
        if count:
            metadata["examples"] = describe_violations(found, tuple(check.columns), _EXAMPLES)
            if count > _EXAMPLES:
                metadata["examples"] += f" (+{count - _EXAMPLES} more)"
        outcomes.append(CheckOutcome(check.asset, check.name, count == 0, metadata))
    return outcomes


def fail_on_failed_checks(source: str, outcomes: Sequence[CheckOutcome]) -> None:
    failed = [o for o in outcomes if not o.passed]
    if failed:
        reasons = "; ".join(
            f"{o.name}: {o.metadata['violations']} violation(s), e.g. {o.metadata['examples']}"
            for o in failed
        )
        raise ChecksFailed(source, reasons)
