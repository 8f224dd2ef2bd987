"""The webserver's GraphQL API, as the CLI uses it: runs submitted to the daemon's queue
(`f1-pipeline run` beside a running daemon) through dagster-graphql's client; the queries it
has no method for — season backfills (launched as the UI's partition picker does) and their
status, a failed run's errors, the code location's state and reload — as GraphQL documents
(each validated against the installed Dagster's schema in the tests).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dagster import AssetKey, DagsterInstance

from f1_pipeline.cli.errors import CommandError
from f1_pipeline.cli.team import LOCATION  # workspace.yaml's and [tool.dg]'s name
from f1_pipeline.defs.assets.stats import SEASON_STATS
from f1_pipeline.defs.graphql import WebserverError
from f1_pipeline.defs.graphql import graphql as query_webserver

REPOSITORY = "__repository__"  # the one a Definitions object makes

SEASON_STATS_KEY = {"path": list(SEASON_STATS.path)}
TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def graphql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        return query_webserver(url, query, variables)
    except WebserverError as err:
        raise CommandError(
            f"{err}; start it with `make ui` (backfills run on its daemon) or set F1_DAGSTER_URL"
        ) from None


def webserver_up(url: str, timeout: float = 0.5) -> bool:
    """Whether a Dagster webserver answers at ``url`` (its /server_info page)."""
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=timeout) as response:
            return "dagster_webserver_version" in json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False


# A daemon whose heartbeat is older than this is taken as stopped (it beats every ~30 s).
DAEMON_HEARTBEAT_SECONDS = 90.0


def daemon_serves(instance: DagsterInstance) -> bool:
    """Whether a Dagster daemon serves this instance (a recent heartbeat): the one way the
    CLI asks (runs go through its queue, backfills need it)."""
    now = time.time()
    beats = instance.get_daemon_heartbeats().values()
    return any(now - beat.timestamp < DAEMON_HEARTBEAT_SECONDS for beat in beats)


def season_partitions(url: str) -> list[str]:
    data = graphql(
        url,
        "query($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) { partitionKeys } }",
        {"keys": [SEASON_STATS_KEY]},
    )
    nodes = data["assetNodes"]
    return nodes[0]["partitionKeys"] if nodes else []


_LAUNCH = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
    ... on UnauthorizedError { message }
    ... on PartitionSetNotFoundError { message }
    ... on InvalidSubsetError { message }
  }
}"""


def launch_season_backfill(url: str, seasons: Sequence[str], tags: dict[str, str]) -> str:
    """One asset backfill of season_stats over ``seasons``: a single run (the asset's
    single-run backfill policy)."""
    params = {
        "assetSelection": [SEASON_STATS_KEY],
        "partitionNames": list(seasons),
        "tags": [{"key": k, "value": v} for k, v in tags.items()],
        "title": f"seasons {seasons[0]}..{seasons[-1]}",
    }
    result = graphql(url, _LAUNCH, {"params": params})["launchPartitionBackfill"]
    if result["__typename"] != "LaunchBackfillSuccess":
        raise CommandError(f"backfill refused: {result.get('message', result['__typename'])}")
    return result["backfillId"]


_STATUS = """
query($id: String!, $keys: [AssetKeyInput!], $partitions: [String!]) {
  partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status runs(limit: 20) { runId status } }
    ... on PythonError { message }
  }
  assetNodes(assetKeys: $keys) {
    assetMaterializations(partitions: $partitions) { partition runId }
  }
}"""


def backfill_progress(url: str, backfill_id: str, seasons: Sequence[str]) -> dict[str, Any]:
    """Status, runs, and for each season the runs that materialised it."""
    data = graphql(
        url, _STATUS, {"id": backfill_id, "keys": [SEASON_STATS_KEY], "partitions": list(seasons)}
    )
    backfill = data["partitionBackfillOrError"]
    if "status" not in backfill:
        raise CommandError(f"backfill {backfill_id}: {backfill.get('message')}")
    run_ids = {r["runId"] for r in backfill["runs"]}
    done = {
        m["partition"]
        for node in data["assetNodes"]
        for m in node["assetMaterializations"]
        if m["runId"] in run_ids
    }
    return {"status": backfill["status"], "runs": backfill["runs"], "materialized": done}


_FAILURES = """
query($runId: ID!) { logsForRun(runId: $runId) { __typename
  ... on EventConnection { events { __typename
    ... on ExecutionStepFailureEvent { stepKey error { message causes { message } } }
    ... on RunFailureEvent { message error { message } } } }
  ... on PythonError { message } ... on RunNotFoundError { message } } }"""


def run_failures(url: str, run_id: str) -> list[str]:
    """Why a run failed, one line per failed step (the innermost error's first line) and the
    run's own failure message."""
    logs = graphql(url, _FAILURES, {"runId": run_id})["logsForRun"]
    if logs["__typename"] != "EventConnection":
        return [f"run {run_id}: {logs.get('message', logs['__typename'])}"]
    lines = []
    for event in logs["events"]:
        error = event.get("error") or {}
        causes = [c["message"] for c in error.get("causes") or []]
        text = (causes[-1] if causes else error.get("message")) or event.get("message") or ""
        first = text.strip().splitlines()[0] if text.strip() else event["__typename"]
        if event["__typename"] == "ExecutionStepFailureEvent":
            lines.append(f"step {event['stepKey']}: {first}")
        elif event["__typename"] == "RunFailureEvent":
            lines.append(f"run: {first}")
    return lines


def submit_run(url: str, job: str, assets: Sequence[AssetKey], tags: dict[str, str]) -> str:
    """Submit a run of ``job``'s ``assets`` with ``tags`` to the instance's run queue (the
    daemon launches it, within the pools and run limits); its run id."""
    from dagster_graphql import DagsterGraphQLClient, DagsterGraphQLClientError

    address = urllib.parse.urlsplit(url)
    client = DagsterGraphQLClient(
        address.hostname or "127.0.0.1",
        port_number=address.port,
        use_https=address.scheme == "https",
        path_prefix=address.path.rstrip("/"),
        timeout=60,
    )
    try:
        return client.submit_job_execution(
            job, repository_location_name=LOCATION, repository_name=REPOSITORY,
            tags=tags, asset_selection=list(assets),
        )  # fmt: skip
    except DagsterGraphQLClientError as err:
        raise CommandError(f"the webserver at {url} refused the run: {err}") from None


_LOCATION_FIELDS = """name loadStatus versionKey
  locationOrLoadError { __typename ... on PythonError { message } }"""
_LOCATIONS = f"""{{ workspaceOrError {{ __typename
  ... on Workspace {{ locationEntries {{ {_LOCATION_FIELDS} }} }}
  ... on PythonError {{ message }} }} }}"""
_RELOAD = f"""mutation($name: String!) {{ reloadRepositoryLocation(repositoryLocationName: $name) {{
  __typename ... on WorkspaceLocationEntry {{ {_LOCATION_FIELDS} }}
  ... on PythonError {{ message }} ... on UnauthorizedError {{ message }}
  ... on ReloadNotSupported {{ message }} ... on RepositoryLocationNotFound {{ message }} }} }}"""


@dataclass(frozen=True)
class Location:
    """The code location as the webserver sees it: ``loaded`` when its definitions are
    served, ``error`` the load error if any, ``version`` changes on every (re)load."""

    loaded: bool
    error: str | None
    version: str | None


def _location(entry: dict[str, Any] | None) -> Location:
    if entry is None:
        return Location(False, f"the webserver has no code location {LOCATION!r}", None)
    found = entry.get("locationOrLoadError") or {}
    error = found.get("message") if found.get("__typename") == "PythonError" else None
    loaded = entry.get("loadStatus") == "LOADED" and found.get("__typename") == "RepositoryLocation"
    return Location(loaded, error, entry.get("versionKey"))


def code_location(url: str) -> Location:
    workspace = graphql(url, _LOCATIONS)["workspaceOrError"]
    if workspace["__typename"] != "Workspace":
        return Location(False, workspace.get("message"), None)
    entries = {e["name"]: e for e in workspace["locationEntries"]}
    return _location(entries.get(LOCATION))


def reload_code_location(url: str) -> Location:
    """What the UI's Reload does: the code server reloads its code (a gRPC code server
    restarts its worker), the webserver and the daemon pick the new definitions up."""
    result = graphql(url, _RELOAD, {"name": LOCATION})["reloadRepositoryLocation"]
    if result["__typename"] != "WorkspaceLocationEntry":
        raise CommandError(f"reload refused: {result.get('message', result['__typename'])}")
    return _location(result)
