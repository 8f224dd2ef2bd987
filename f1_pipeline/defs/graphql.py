"""The webserver's GraphQL API, the public way to read what Dagster's Python API keeps
private (a sensor's or schedule's ticks, backfills, a run's errors). Every document sent
is validated against the installed Dagster's schema in the tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class WebserverError(RuntimeError):
    """The webserver did not answer, or answered with errors; the message says which."""


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{url.rstrip('/')}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
    except (urllib.error.URLError, OSError) as err:
        raise WebserverError(f"cannot reach the Dagster webserver at {url} ({err})") from None
    if body.get("errors"):
        raise WebserverError(f"GraphQL error: {body['errors'][0].get('message')}")
    return body["data"]
