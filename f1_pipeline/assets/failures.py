"""Turning bad input into a clean, non-retryable run failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Failure, MetadataValue

from f1_pipeline.storage import ObjectNotFound
from f1_pipeline.transforms.errors import InvalidInputError


@contextmanager
def bad_input_fails_run() -> Iterator[None]:
    """Re-raise bad-input errors as a dagster Failure whose description is the message.

    Bad input is permanent: retrying cannot fix it, so retries are disabled.
    """
    try:
        yield
    except InvalidInputError as err:
        metadata = {"file": MetadataValue.text(err.source)}
        if err.line is not None:
            metadata["line"] = MetadataValue.int(err.line)
        if err.column is not None:
            metadata["column"] = MetadataValue.text(err.column)
        raise Failure(description=str(err), metadata=metadata, allow_retries=False) from err
    except ObjectNotFound as err:
        raise Failure(description=str(err), allow_retries=False) from err
