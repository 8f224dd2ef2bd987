"""The hold check of the ingest: the upload against the last accepted one and the published
seasons (see :mod:`f1_pipeline.core.holds` for the rules), its verdict as a check outcome,
an acceptance the run carries applied, and the withdrawals accepted so far."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from f1_pipeline.core.holds import HoldPolicy, accept, held_changes, read_acceptance
from f1_pipeline.core.lineage import Commit, SeasonSummary, read_manifest
from f1_pipeline.core.steps.base import CheckOutcome, StepContext

HOLD_CHECK = "no_published_data_removed"
CLEANED_RACES = "cleaned/races"  # the asset the check is on (ingest.py names the assets)


@dataclass(frozen=True)
class Hold:
    """The hold check's verdict on an upload: what it would remove, and its acceptance."""

    upload: str
    changes: list[str]
    acceptance: dict[str, Any] | None
    problem: str = ""  # why an acceptance the run carried does not apply
    over: str | None = None  # the last accepted upload, compared with

    @property
    def held(self) -> bool:
        return bool(self.changes) and self.acceptance is None

    def outcome(self) -> CheckOutcome:
        metadata: dict[str, Any] = {"upload": self.upload, "removes": "; ".join(self.changes)}
        if self.acceptance:
            metadata["accepted_by"] = self.acceptance["accepted_by"]
            metadata["accepted_at"] = self.acceptance["accepted_at"]
        if self.problem:
            metadata["acceptance_refused"] = self.problem
        return CheckOutcome(CLEANED_RACES, HOLD_CHECK, not self.held, metadata)


def hold_check(
    ctx: StepContext,
    uid: str,
    summaries: Mapping[str, SeasonSummary],
    commit: Commit | None,
    params: Mapping[str, Any],
) -> Hold:
    """Compare the upload with the last accepted one and the published seasons."""
    withdrawn_before = commit.withdrawals_accepted if commit else {}
    published = [s for s in read_manifest(ctx.storage).published() if s not in withdrawn_before]
    before = {s: v for s, v in (commit.seasons if commit else {}).items()
              if s not in withdrawn_before}  # fmt: skip
    changes = held_changes(before, published, summaries, HoldPolicy.from_params(params.get("hold")))
    over = commit.upload if commit else None
    if not changes:
        return Hold(uid, [], None, over=over)
    accepted = read_acceptance(ctx.storage, uid, over)
    asked = params.get("accept") or {}
    problem = ""
    if accepted is None and asked.get("upload") == uid:
        accepted = accept(ctx.storage, uid, asked.get("by") or {}, changes, over)
    elif accepted is None and asked.get("upload"):
        problem = f"the run accepts upload {asked['upload']}, not this one ({uid})"
    return Hold(uid, changes, accepted, problem, over)


def withdrawals(
    commit: Commit | None, hold: Hold, summaries: Mapping[str, SeasonSummary]
) -> dict[str, Any]:
    """Seasons whose withdrawal was accepted (carried from upload to upload until a season
    comes back): the stats step withdraws them, and they are not held again."""
    carried = dict(commit.withdrawals_accepted) if commit else {}
    if hold.acceptance is not None and commit is not None:
        for season in set(commit.seasons) - set(summaries):
            carried.setdefault(season, {"upload": hold.upload, **hold.acceptance})
    return {s: v for s, v in carried.items() if s not in summaries}
