"""How an asset's failures end its step: retried when transient, failed for good otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import AssetExecutionContext, Failure, MetadataValue, RetryRequested

from f1_pipeline.core.storage import ObjectNotFound
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.defs.retries import MAX_RETRIES, backoff_seconds, is_transient


@contextmanager
def failure_policy(context: AssetExecutionContext) -> Iterator[None]:
    """Bad input (a missing file, an unparseable value) becomes a Failure whose description
    is the message, never retried: retrying cannot fix it. S3 connection errors, throttling
    and Spark start failures are retried with exponential backoff and jitter."""
    try:
        yield
    except InvalidInputError as err:
        metadata: dict[str, MetadataValue] = {"file": MetadataValue.text(err.source)}
        if err.line is not None:
            metadata["line"] = MetadataValue.int(err.line)
        if err.column is not None:
            metadata["column"] = MetadataValue.text(err.column)
        raise Failure(description=str(err), metadata=metadata, allow_retries=False) from err
    except ObjectNotFound as err:
        raise Failure(description=str(err), allow_retries=False) from err
    except Exception as err:
        if not is_transient(err):
            raise
        wait = backoff_seconds(context.retry_number)
        context.log.warning(
            f"transient failure ({type(err).__name__}: {str(err)[:300]}); "
            f"retry {context.retry_number + 1}/{MAX_RETRIES} in {wait:.1f}s"
        )
        raise RetryRequested(max_retries=MAX_RETRIES, seconds_to_wait=wait) from err
