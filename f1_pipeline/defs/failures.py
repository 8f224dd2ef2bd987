"""How a step's failures end it. Dagster does the retrying (the steps' ``RetryPolicy``, run
retries in the instance); this decides what is worth a retry:

- a held upload, bad input or a failed blocking check: a ``Failure`` that is never retried,
  marked so (run metadata) that the sensors wait for a new upload or an acceptance;
- a transient fault (S3 or Glue throttling and connection errors, a Spark session that did
  not start, a Glue job run lost to Glue itself): raised as is, for the step's RetryPolicy;
- anything else: a ``Failure`` that is not retried (retrying cannot fix a bug or a
  configuration), with the original error as its cause.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagster import AssetExecutionContext, Failure, MetadataValue

from f1_pipeline.core.history import RollbackRefused
from f1_pipeline.core.steps.checks import UploadHeld
from f1_pipeline.core.storage import ObjectNotFound
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.defs.retries import is_transient

# Step-failure metadata: the upload itself is refused (bad input) or held. The sensors then
# wait for a new upload (or an acceptance) instead of requesting it again.
BAD_INPUT_METADATA = "f1/bad_input"
HELD_METADATA = "f1/held"


class TransientFailure(RuntimeError):
    """A fault worth retrying, classified from structured data (an error code, a job run's
    state, the exception class a Glue job reported): the step's RetryPolicy retries it."""


def refused(err: InvalidInputError | ObjectNotFound) -> Failure:
    metadata: dict[str, Any] = {BAD_INPUT_METADATA: MetadataValue.bool(True)}
    if isinstance(err, UploadHeld):
        metadata[HELD_METADATA] = MetadataValue.bool(True)
    if isinstance(err, InvalidInputError):
        metadata["file"] = MetadataValue.text(err.source)
        if err.line is not None:
            metadata["line"] = MetadataValue.int(err.line)
        if err.column is not None:
            metadata["column"] = MetadataValue.text(err.column)
    return Failure(description=str(err), metadata=metadata, allow_retries=False)


@contextmanager
def failure_policy(context: AssetExecutionContext) -> Iterator[None]:
    """See the module: refused input and permanent errors become a ``Failure`` that is never
    retried; transient faults are raised for the step's RetryPolicy."""
    try:
        yield
    except Failure:
        raise
    except (InvalidInputError, ObjectNotFound) as err:
        raise refused(err) from err
    except RollbackRefused as err:
        raise Failure(description=f"rollback refused: {err}", allow_retries=False) from err
    except Exception as err:
        if isinstance(err, TransientFailure) or is_transient(err):
            context.log.warning(
                f"transient failure ({type(err).__name__}: {str(err)[:300]}); Dagster retries "
                f"the step (attempt {context.retry_number + 1})"
            )
            raise
        raise Failure(
            description=f"{type(err).__name__}: {err}".strip(),
            metadata={"error": MetadataValue.text(type(err).__name__)},
            allow_retries=False,
        ) from err
