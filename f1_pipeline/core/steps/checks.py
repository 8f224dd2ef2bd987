"""Blocking data-quality checks, evaluated before anything is published."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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


class UploadHeld(ChecksFailed):
    """The upload would remove published data: held until an explicit acceptance names it
    (see :mod:`f1_pipeline.core.holds`). Never retried: only a person, or a new upload, can
    move it on."""


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


def _counts(
    checks: Sequence[Check], riders: Mapping[str, DataFrame]
) -> tuple[list[int], dict[str, list[dict]]]:
    """Each check's number of violations, and the rows of each rider (small frames the
    caller needs anyway, as JSON): one Spark action, no sort and no example rows (Spark
    prunes what a count does not need)."""
    no_text, no_count = F.lit(None).cast("string"), F.lit(None).cast("long")
    parts = [
        check.violations.agg(F.count(F.lit(1)).alias("_n")).select(
            F.lit(i).alias("_check"), "_n", no_text.alias("_kind"), no_text.alias("_row")
        )
        for i, check in enumerate(checks)
    ]
    parts += [
        frame.select(
            F.lit(-1).alias("_check"), no_count.alias("_n"), F.lit(name).alias("_kind"),
            F.to_json(F.struct(*[F.col(c) for c in frame.columns])).alias("_row"),
        )
        for name, frame in riders.items()
    ]  # fmt: skip
    counted: dict[int, int] = {}
    rows: dict[str, list[dict]] = {name: [] for name in riders}
    for r in reduce(DataFrame.unionByName, parts).collect():
        if r["_kind"] is None:
            counted[r["_check"]] = r["_n"]
        else:
            rows[r["_kind"]].append(_row(r["_row"], riders[r["_kind"]].columns))
    return [counted[i] for i in range(len(checks))], rows


def _examples(checks: Sequence[Check], failing: Sequence[int]) -> dict[int, list[dict]]:
    """The first examples of the ``failing`` checks, in one more Spark action."""
    if not failing:
        return {}
    parts = [
        checks[i]
        .violations.limit(_EXAMPLES)
        .select(
            F.lit(i).alias("_check"),
            F.to_json(F.struct(*[F.col(c) for c in checks[i].columns])).alias("_row"),
        )
        for i in failing
    ]
    found: dict[int, list[dict]] = {i: [] for i in failing}
    for r in reduce(DataFrame.unionByName, parts).collect():
        found[r["_check"]].append(_row(r["_row"], checks[r["_check"]].columns))
    return found


def _row(text: str, columns: Sequence[str]) -> dict[str, Any]:
    """A row Spark sent as JSON, every column present: to_json leaves null fields out."""
    values = json.loads(text)
    return {c: values.get(c) for c in columns}


def evaluate(
    checks: Sequence[Check], riders: Mapping[str, DataFrame] | None = None
) -> tuple[list[CheckOutcome], dict[str, list[dict]]]:
    """Every check's violation count, and first examples of those that fail; with the rows
    of ``riders`` (as dicts, by name). One Spark action when all pass, two otherwise (each
    action is a round trip, which costs most over Spark Connect, and a sort for examples no
    one reads is wasted work)."""
    counts, ridden = _counts(checks, riders or {})
    examples = _examples(checks, [i for i, n in enumerate(counts) if n])
    outcomes = []
    for i, check in enumerate(checks):
        count, found = counts[i], examples.get(i, [])
        order = check.order
        found.sort(key=lambda example: _first(example[order]))
        metadata: dict = {"violations": count}
        if count:
            metadata["examples"] = describe_violations(found, tuple(check.columns), _EXAMPLES)
            if count > _EXAMPLES:
                metadata["examples"] += f" (+{count - _EXAMPLES} more)"
        outcomes.append(CheckOutcome(check.asset, check.name, count == 0, metadata))
    return outcomes, ridden


def fail_on_failed_checks(source: str, outcomes: Sequence[CheckOutcome]) -> None:
    failed = [o for o in outcomes if not o.passed]
    if failed:
        reasons = "; ".join(
            f"{o.name}: {o.metadata['violations']} violation(s), e.g. {o.metadata['examples']}"
            for o in failed
        )
        raise ChecksFailed(source, reasons)
