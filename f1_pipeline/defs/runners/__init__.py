"""Where the Spark steps run: :class:`LocalSpark` (in-process, the embedded default) or
:class:`GlueSpark` (an AWS Glue job through Dagster Pipes). The assets do not know which."""

from f1_pipeline.defs.runners.base import StepRun, StepRunner
from f1_pipeline.defs.runners.local import LocalSpark

__all__ = ["LocalSpark", "StepRun", "StepRunner"]
