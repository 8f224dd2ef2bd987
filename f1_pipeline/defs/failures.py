"""How a step's failures end it: retried when transient, failed for good otherwise (bad
input is marked so, and the sensors never retry it in a loop)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import AssetExecutionContext, Failure, MetadataValue, RetryRequested

from f1_pipeline.core.steps.checks import ChecksFailed
from f1_pipeline.core.storage import ObjectNotFound
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.defs.retries import MAX_RETRIES, backoff_seconds, is_transient

# Step-failure metadata saying the upload itself is bad: the sensors wait for a new upload
# instead of retrying.
BAD_INPUT_METADATA = "f1/bad_input"
_BAD_INPUT_ERRORS = (InvalidInputError.__name__, ChecksFailed.__name__)


def is_bad_input_message(message: str) -> bool:
    """A Glue job's error message (its last exception line) says the input was refused."""
    return any(f"{name}:" in message for name in _BAD_INPUT_ERRORS)


@contextmanager
def failure_policy(context: AssetExecutionContext) -> Iterator[None]:
    """Bad input (a missing file, an unparseable value) becomes a Failure whose description
    is the message, never retried: retrying cannot fix it. S3 connection errors, throttling
    and Spark start failures are retried with exponential backoff and jitter."""
    try:
        yield
    except InvalidInputError as err:
        metadata: dict[str, MetadataValue] = {
            "file": MetadataValue.text(err.source),
            BAD_INPUT_METADATA: MetadataValue.bool(True),
        }
        if err.line is not None:
            metadata["line"] = MetadataValue.int(err.line)
        if err.column is not None:
            metadata["column"] = MetadataValue.text(err.column)
        raise Failure(description=str(err), metadata=metadata, allow_retries=False) from err
    except ObjectNotFound as err:
        bad = {BAD_INPUT_METADATA: MetadataValue.bool(True)}
        raise Failure(description=str(err), metadata=bad, allow_retries=False) from err
    except Exception as err:
        if not is_transient(err):
            raise
        wait = backoff_seconds(context.retry_number)
        context.log.warning(
            f"transient failure ({type(err).__name__}: {str(err)[:300]}); "
            f"retry {context.retry_number + 1}/{MAX_RETRIES} in {wait:.1f}s"
        )
        raise RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=wait) from err
