from __future__ import annotations

import pytest
from boto3.exceptions import RetriesExceededError
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError, SSLError
from pyspark.errors import PySparkRuntimeError

from f1_pipeline.core.storage import ObjectChanged
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.defs.retries import RETRY_POLICY, is_transient


def _client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "x"}}, "GetObject")


def test_transient_failures():
    assert is_transient(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert is_transient(ReadTimeoutError(endpoint_url="http://127.0.0.1:1"))
    assert is_transient(_client_error("SlowDown"))
    assert is_transient(_client_error("503"))
    assert is_transient(PySparkRuntimeError(errorClass="JAVA_GATEWAY_EXITED", messageParameters={}))
    # s3transfer gave up on a download: boto3's class, not botocore's.
    assert is_transient(RetriesExceededError(EndpointConnectionError(endpoint_url="http://x")))
    # An object replaced while it was read (a local root keeps no versions): read it again.
    assert is_transient(ObjectChanged("races.csv changed while being read"))


def test_permanent_failures():
    assert not is_transient(_client_error("AccessDenied"))
    assert not is_transient(_client_error("NoSuchBucket"))
    assert not is_transient(InvalidInputError("races.csv", "bad", line=2, column="date"))
    assert not is_transient(KeyError("x"))
    # A TLS certificate failure is a ConnectionError subclass, but retrying cannot fix it.
    assert not is_transient(SSLError(endpoint_url="https://x", error="CERTIFICATE_VERIFY_FAILED"))


def test_dagster_retries_steps_with_exponential_backoff_and_jitter():
    from dagster import Backoff, Jitter

    assert RETRY_POLICY.max_retries == 4
    assert RETRY_POLICY.delay == 2.0
    assert (RETRY_POLICY.backoff, RETRY_POLICY.jitter) == (Backoff.EXPONENTIAL, Jitter.PLUS_MINUS)


@pytest.mark.parametrize(
    ("state", "error_class", "message", "kind", "retryable"),
    [
        ("FAILED", "UploadHeld", "held", "held", False),
        ("FAILED", "InvalidInputError", "races.csv, line 4", "refused", False),
        ("FAILED", "ChecksFailed", "race_id_unique", "refused", False),
        ("FAILED", "ObjectChanged", "changed while read", "transient", True),
        ("FAILED", "EndpointConnectionError", "", "transient", True),
        ("ERROR", None, "InternalServiceException", "transient", True),
        ("EXPIRED", None, "", "transient", True),
        # A job that died without closing Pipes: Glue's message is all there is.
        ("FAILED", None, "ExecutorLostFailure (executor 3 exited) lost worker", "transient", True),
        ("FAILED", None, "Command failed with exit code 1", "failed", False),
        ("FAILED", "KeyError", "'season'", "failed", False),
        ("TIMEOUT", None, "Job run timed out", "failed", False),
        ("STOPPED", None, "", "failed", False),
        # A held upload is never retried, whatever Glue's message says.
        ("FAILED", "UploadHeld", "lost", "held", False),
    ],
)
def test_glue_failures_are_classified_from_structured_data(
    state, error_class, message, kind, retryable
):
    from f1_pipeline.defs.runners.glue import classify

    assert classify(state, error_class, message) == (kind, retryable)


def test_a_missing_java_is_not_retried():
    from f1_pipeline.core.spark import JavaMissing

    assert not is_transient(JavaMissing("Spark needs Java 17"))
