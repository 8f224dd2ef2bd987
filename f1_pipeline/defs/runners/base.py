"""The interface the assets see."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext


@dataclass
class StepRun:
    """What a step run produced. ``checks`` are kept even when the step failed afterwards, so
    a failed blocking check is shown before the step's failure is raised."""

    checks: list[AssetCheckResult] = field(default_factory=list)
    # Per asset (key as a user string): its materialisation's Dagster metadata values.
    materializations: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    error: BaseException | None = None

    def raise_error(self) -> None:
        if self.error is not None:
            raise self.error


class StepRunner(abc.ABC):
    """Runs one of :data:`f1_pipeline.core.steps.STEPS` for an asset."""

    mode: str

    @abc.abstractmethod
    def run(
        self, context: AssetExecutionContext, step: str, params: Mapping[str, Any]
    ) -> StepRun: ...

    def code_versions(self) -> dict[str, str] | None:
        """The versions of the code the steps run (see f1_pipeline.core.code_version)."""
        from f1_pipeline.core.code_version import code_versions

        return code_versions()
