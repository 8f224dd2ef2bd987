"""AWS clients, built in one place: credentials, region, endpoint and retries come from
botocore's own configuration chain (``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``,
``AWS_RETRY_MODE``, ``AWS_MAX_ATTEMPTS``, the config files, the instance's role), never from
ours."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

# The one default the platform adds to botocore's (3 attempts in its standard mode): put in
# the process environment by each entry point (the CLI, the code location, the Glue job)
# when unset, so a value of the operator's, or botocore's config file, still wins.
AWS_DEFAULTS = {"AWS_MAX_ATTEMPTS": "5"}


def with_aws_defaults(env: MutableMapping[str, str]) -> None:
    """``AWS_DEFAULTS`` where unset, and ``AWS_DEFAULT_REGION`` (what botocore reads) from
    ``AWS_REGION`` (what other AWS SDKs and some deployments set) when only that is set."""
    for name, value in AWS_DEFAULTS.items():
        env.setdefault(name, value)
    if env.get("AWS_REGION"):
        env.setdefault("AWS_DEFAULT_REGION", env["AWS_REGION"])


def aws_client(service: str) -> Any:
    """A boto3 client for ``service`` with room for the concurrent writes of a publish."""
    import boto3
    from botocore.config import Config

    make_client: Any = boto3.client  # one signature for any service name
    return make_client(service, config=Config(max_pool_connections=16))
