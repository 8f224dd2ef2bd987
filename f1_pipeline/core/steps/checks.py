"""Blocking data-quality checks, evaluated before anything is published."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame

from f1_pipeline.core.steps.base import CheckOutcome
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.quality import describe_violations

_EXAMPLES = 5


class ChecksFailed(InvalidInputError):
    """A blocking check failed: the data is refused, nothing derived from it is published."""


def check_outcome(
    asset: str, name: str, violations: DataFrame, columns: Sequence[str]
) -> CheckOutcome:
    """Pass when ``violations`` is empty; otherwise report the count and a few examples."""
    count = violations.count()
    examples = [r.asDict() for r in violations.limit(_EXAMPLES).collect()]
    metadata: dict = {"violations": count}
    if count:
        metadata["examples"] = describe_violations(examples, tuple(columns), _EXAMPLES)
        if count > _EXAMPLES:
            metadata["examples"] += f" (+{count - _EXAMPLES} more)"
    return CheckOutcome(asset, name, count == 0, metadata)


def fail_on_failed_checks(source: str, outcomes: Sequence[CheckOutcome]) -> None:
    failed = [o for o in outcomes if not o.passed]
    if failed:
        reasons = "; ".join(
            f"{o.name}: {o.metadata['violations']} violation(s), e.g. {o.metadata['examples']}"
            for o in failed
        )
        raise ChecksFailed(source, reasons)
