"""The one decision every trigger takes: is what is published built from the current upload
by the current code, and if not, which run makes it so.

Work is due when the upload differs from what the cleaned layer was built from, when the
cleaning code changed, when a season is not published from the current data by the current
code, or when an accepted withdrawal is not done yet. It is one run of the publish job over
every season partition (an upload becomes one run: the ingest, then the seasons it changed;
the others are recorded as unchanged). The request is made once per state of the
inputs (upload, code, acceptance) and of what is published: a run that failed after
Dagster's own retries is not requested again until the data or the code changes, an
acceptance is recorded, something is published (or deleted), or a person retries it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dagster import (
    AssetMaterialization,
    DagsterInstance,
    RepositoryDefinition,
    RunRequest,
)

from f1_pipeline.core.holds import read_acceptance
from f1_pipeline.core.lineage import read_commit, read_manifest
from f1_pipeline.core.steps.stats import stale_seasons, withdrawable_seasons
from f1_pipeline.core.storage import Storage, layout
from f1_pipeline.core.upload import Listing, Look, peek_seasons
from f1_pipeline.defs.assets.raw import source_events
from f1_pipeline.defs.constants import (
    SOURCE_CHECKSUMS_TAG,
    SOURCE_VERSIONS_TAG,
    STATE_TAG,
    TRIGGER_TAG,
)
from f1_pipeline.defs.jobs import CLEANED_ASSETS, PUBLISHED_ASSETS
from f1_pipeline.defs.partitions import range_tags, register_seasons
from f1_pipeline.defs.sensors.runs import Outcome, last_outcome, runs_in_flight


def _seasons(values: Sequence[str]) -> str:
    return ", ".join(values[:10]) + (f" (+{len(values) - 10} more)" if len(values) > 10 else "")


@dataclass(frozen=True)
class State:
    """The platform's state for one listing of the uploaded files."""

    files: Listing
    upload: str | None
    reasons: list[str]  # why a run is due; empty: in sync
    seasons: list[str]  # the seasons a run covers: in the data and the new upload
    withdrawn: list[str]  # seasons withdrawn from the manifest (their partitions go)
    accepted: bool = False  # an acceptance is recorded for this upload
    upload_changed: bool = False  # the files differ from what the cleaned layer was built from
    digest: str = ""

    @property
    def due(self) -> bool:
        return bool(self.reasons)


def read_state(
    storage: Storage,
    files: Listing,
    code: Mapping[str, str] | None,
    latest_season: int,
) -> State:
    """Compare the upload (``files``) and ``code`` with the commit record and the manifest.
    ``code``: the versions the runs would use (None: unknown; judged from the data only)."""
    commit = read_commit(storage)
    manifest = read_manifest(storage)
    uid = Look(files).upload
    reasons: list[str] = []
    seasons = set(commit.seasons if commit else ())
    upload_changed = commit is None or not commit.built_from(storage, files)
    if upload_changed:
        built = commit.checksums() if commit else {}
        changed = sorted(k for k in files if built.get(k) != files[k]) or ["a file"]
        reasons.append(f"{', '.join(changed)} changed")
        seasons |= {str(s) for s in peek_seasons(storage, latest_season)}
    elif commit is not None and code and commit.code_version != code["cleaning"]:
        reasons.append("the cleaning code changed")
    elif commit is not None:
        stale = stale_seasons(commit, manifest, stats_code=code["stats"] if code else None)
        if stale:
            reasons.append(f"season(s) {_seasons(stale)} not published from this data and code")
        withdraw = withdrawable_seasons(commit, manifest)
        if withdraw:
            reasons.append(f"season(s) {_seasons(withdraw)} to withdraw (accepted)")
    withdrawn = [s for s in manifest.withdrawn() if s not in seasons]
    over = commit.upload if commit else None
    accepted = bool(reasons and uid and read_acceptance(storage, uid, over))
    # The state a request is made for: the inputs (upload, code, acceptance) and what is
    # published. A run that failed part-way leaves both as they were (its ingest may have
    # moved the cleaned layer on, the manifest not): it is not requested again.
    text = json.dumps(
        {"files": files, "code": code, "accepted": accepted, "published": manifest.dump()},
        sort_keys=True,
    )
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return State(
        files, uid, reasons, sorted(seasons, key=int), withdrawn, accepted, upload_changed, digest
    )


@dataclass(frozen=True)
class Decision:
    request: RunRequest | None
    reason: str
    asset_events: list[AssetMaterialization] = field(default_factory=list)


def decide(
    instance: DagsterInstance,
    repository: RepositoryDefinition | None,
    storage: Storage,
    state: State,
    trigger: str,
    run_key: str,
) -> Decision:
    """The run request for ``state`` (None with the reason when none is due or allowed), the
    state's seasons registered as partitions first (and withdrawn ones removed)."""
    order, _ = register_seasons(instance, state.seasons, state.withdrawn)
    if not state.files:
        return Decision(None, "no source files uploaded yet")
    if not state.due:
        return Decision(None, "published seasons are built from the current upload and code")
    why = "; ".join(state.reasons)
    busy = runs_in_flight(instance, PUBLISHED_ASSETS, repository)
    if busy:
        return Decision(None, f"{why}; waiting for run {busy[0]} (it writes the same outputs)")
    outcome = last_outcome(instance, STATE_TAG, state.digest)
    if outcome.run_id is not None:
        return Decision(None, _waiting(why, outcome, state))
    tags = {
        TRIGGER_TAG: trigger,
        STATE_TAG: state.digest,
        SOURCE_CHECKSUMS_TAG: json.dumps(state.files, sort_keys=True),
        SOURCE_VERSIONS_TAG: json.dumps(_versions(storage, state.files), sort_keys=True),
    }
    if order:
        request = RunRequest(run_key=run_key, tags={**tags, **range_tags(order[0], order[-1])})
    else:  # the upload names no season: the ingest alone says what is wrong with it
        request = RunRequest(run_key=run_key, tags=tags, asset_selection=list(CLEANED_ASSETS))
    events = source_events(storage, state.files) if state.upload_changed else []
    return Decision(request, f"{why}: requesting run {run_key}", events)


def _waiting(why: str, outcome: Outcome, state: State) -> str:
    if outcome.status is None:
        return f"{why}; waiting for run {outcome.run_id}"
    if outcome.held:
        return (
            f"upload {state.upload} held (run {outcome.run_id}): {outcome.message}; waiting for "
            "an acceptance or a new upload"
        )
    if outcome.refused:
        return f"upload refused (run {outcome.run_id}): {outcome.message}; waiting for a new upload"
    if outcome.status == "SUCCESS":
        return f"{why}; run {outcome.run_id} succeeded and this is still due: nothing to retry"
    return (
        f"{why}; run {outcome.run_id} ended {outcome.status} after Dagster's retries: not "
        "requested again until the data or code changes; re-execute it in the UI or run "
        "`f1-pipeline run`"
    )


def _versions(storage: Storage, files: Listing) -> dict[str, str]:
    """The S3 VersionIds of the files (none on a local root), pinned in the run's tags."""
    versions = {}
    for table in layout.SOURCE_TABLES:
        key = layout.source_csv(table)
        if key in files:
            version = storage.info(key).version_id
            if version:
                versions[table] = version
    return versions
