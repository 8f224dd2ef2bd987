"""Blocking checks for the cleaned layer, run before anything is published."""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetCheckResult, AssetCheckSpec, AssetKey, Failure
from pyspark.sql import DataFrame

from f1_pipeline.transforms.quality import describe_violations

_EXAMPLES = 5


def blocking_check(asset_key: AssetKey, name: str, description: str) -> AssetCheckSpec:
    return AssetCheckSpec(name, asset=asset_key, blocking=True, description=description)


def check_result(
    asset_key: AssetKey, name: str, violations: DataFrame, columns: Sequence[str]
) -> AssetCheckResult:
    """Pass when ``violations`` is empty; otherwise report the count and a few examples."""
    count = violations.count()
    examples = [r.asDict() for r in violations.limit(_EXAMPLES).collect()]
    metadata: dict = {"violations": count}
    if count:
        metadata["examples"] = describe_violations(examples, tuple(columns), _EXAMPLES)
        if count > _EXAMPLES:
            metadata["examples"] += f" (+{count - _EXAMPLES} more)"
    return AssetCheckResult(
        asset_key=asset_key, check_name=name, passed=count == 0, metadata=metadata
    )


def fail_on_failed_checks(source: str, results: Sequence[AssetCheckResult]) -> None:
    """Stop before publishing when a blocking check failed. Bad data is not retried."""
    failed = [r for r in results if not r.passed]
    if failed:
        reasons = "; ".join(
            f"{r.check_name}: {r.metadata['violations'].value} violation(s), e.g. "
            f"{r.metadata['examples'].value}"
            for r in failed
        )
        raise Failure(description=f"{source}: {reasons}", allow_retries=False)
