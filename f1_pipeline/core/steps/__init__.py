"""The pipeline's Spark steps, free of Dagster.

Each step reads the storage root through a :class:`~f1_pipeline.core.steps.io.SparkIO`, runs the
pure transforms in :mod:`f1_pipeline.core.transforms`, checks, publishes, and returns a
:class:`StepResult`. The Dagster assets run them in-process on the local session; the Glue
entry script (:mod:`f1_pipeline.glue.entry`) runs the very same functions on Glue and reports
through Dagster Pipes.
"""

from f1_pipeline.core.steps.base import CheckOutcome, StepContext, StepResult
from f1_pipeline.core.steps.registry import STEPS, run_step

__all__ = ["STEPS", "CheckOutcome", "StepContext", "StepResult", "run_step"]
