"""Which failures are worth retrying, and the retry policy the steps declare (Dagster does the
retrying: exponential backoff with jitter, shown on the asset's definition)."""

from __future__ import annotations

from boto3.exceptions import RetriesExceededError
from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, SSLError
from dagster import Backoff, Jitter, RetryPolicy

from f1_pipeline.core.storage import ObjectChanged

# About 2, 4, 8, 16 s (±50 %): a transient S3 or Spark fault gets half a minute to pass.
RETRY_POLICY = RetryPolicy(
    max_retries=4, delay=2.0, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
)

_THROTTLING_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "RequestTimeout",
    "ServiceUnavailable",
    "InternalError",
    "500",
    "502",
    "503",
    "504",
    # Glue: the job is at its MaxConcurrentRuns, or its service had a hiccup.
    "ConcurrentRunsExceededException",
    "InternalServiceException",
    "OperationTimeoutException",
}
_SPARK_START_FAILURES = {"JAVA_GATEWAY_EXITED", "JAVA_GATEWAY_NOT_STARTED"}


def is_transient(err: BaseException) -> bool:
    """S3 and Glue connection errors, throttling and busy signals, a download s3transfer gave
    up on, an object that changed while read, and a Spark session that failed to start. Not
    a TLS certificate failure: retrying cannot fix a configuration."""
    if isinstance(err, SSLError):
        return False
    transient = (ConnectionError, HTTPClientError, RetriesExceededError, ObjectChanged)
    if isinstance(err, transient):
        return True
    if isinstance(err, ClientError):
        return err.response.get("Error", {}).get("Code") in _THROTTLING_CODES
    try:
        from py4j.protocol import Py4JNetworkError
        from pyspark.errors import PySparkRuntimeError
    except ImportError:  # pragma: no cover - pyspark is a dependency
        return False
    if isinstance(err, Py4JNetworkError):
        return True
    return isinstance(err, PySparkRuntimeError) and err.getCondition() in _SPARK_START_FAILURES
