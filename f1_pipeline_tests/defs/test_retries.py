from __future__ import annotations

import random

from boto3.exceptions import RetriesExceededError
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError, SSLError
from pyspark.errors import PySparkRuntimeError

from f1_pipeline.core.storage import ObjectChanged
from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.defs.retries import CAP_SECONDS, backoff_seconds, is_transient


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


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    rng = random.Random(7)
    waits = [backoff_seconds(n, rng) for n in range(4)]
    for n, wait in enumerate(waits):
        assert 2 * 2**n * 0.5 <= wait <= 2 * 2**n * 1.5
    assert len({round(w, 6) for w in waits}) == 4
    assert backoff_seconds(30, rng) <= CAP_SECONDS * 1.5
    # Jitter: two workers retrying at the same step do not wait the same time.
    assert backoff_seconds(2, random.Random(1)) != backoff_seconds(2, random.Random(2))


def test_a_missing_java_is_not_retried():
    from f1_pipeline.core.spark import JavaMissing

    assert not is_transient(JavaMissing("Spark needs Java 17"))
