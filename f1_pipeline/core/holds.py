"""Suspicious uploads are held, not published.

An upload that would withdraw a season, take the winner away from a race that had one, or
remove more than a set share of a season's races or results is not an error to publish
through: in Formula 1 data a season never legitimately disappears, and a truncated file is
the failure a data provider actually produces. Such an upload is *held*: the ingest's
blocking check fails naming what it would remove, nothing is published, and it waits for
an explicit, recorded acceptance that names it (:func:`upload_id`). A later, different
upload is not accepted by it.

Records, beside the cleaned layer (never inside a table's folder):
``cleaned/_holds/{upload}.json`` (what was held, when, by which run) and
``cleaned/_accepted/{upload}.json`` (who accepted it, when, from where).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from f1_pipeline.core.lineage import SeasonSummary, now, read_json, write_json
from f1_pipeline.core.storage import Storage, layout


@dataclass(frozen=True)
class HoldPolicy:
    """When an upload is held. Per season, never in total: a total over all seasons would
    let one season lose a third of its rows unnoticed. A vanished season and a race losing
    its winner are always held."""

    # More than this share of a season's races, or of its results, removed.
    max_shrink_percent: float = 10.0

    def to_params(self) -> dict[str, float]:
        return {"max_shrink_percent": self.max_shrink_percent}

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> HoldPolicy:
        return cls(**dict(params or {}))


def upload_id(checksums: Mapping[str, str]) -> str:
    """The upload's name: a digest of its files' checksums (ETag on S3, sha256 locally), by
    table. The same bytes uploaded again are the same upload."""
    text = ";".join(f"{table}={checksums[table]}" for table in sorted(checksums))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _rounds(rounds: Iterable[int]) -> str:
    ordered = sorted(rounds)
    word = "round" if len(ordered) == 1 else "rounds"
    shown = ", ".join(map(str, ordered[:10])) + (", ..." if len(ordered) > 10 else "")
    return f"{word} {shown}"


def held_changes(
    before: Mapping[str, SeasonSummary],
    published: Iterable[str],
    after: Mapping[str, SeasonSummary],
    policy: HoldPolicy,
) -> list[str]:
    """What the upload summarised by ``after`` (per season) would remove from the last
    accepted one (``before``) and from the published seasons; empty when nothing suspicious.
    One phrase per finding, seasons in order: "would withdraw 2018, 2019 (published)",
    "2024 would lose 14 of 24 races", "2024 rounds 11, 12 would lose their winner",
    "2023 round 6 (Monaco Grand Prix) would vanish" (a race that had results, gone)."""
    known = {*before, *published}
    gone = sorted((s for s in known if s not in after), key=int)
    found = []
    if gone:
        found.append(f"would withdraw {', '.join(gone)} (published)")
    limit = policy.max_shrink_percent / 100.0
    for season in sorted((s for s in before if s in after), key=int):
        old, new = before[season], after[season]
        losses = []
        for what, had, has in (
            ("races", old.races, new.races),
            ("results", old.results, new.results),
        ):
            if had and (had - has) / had > limit:
                losses.append(f"{had - has} of {had} {what}")
        if losses:
            found.append(f"{season} would lose {' and '.join(losses)}")
        lost_winners = set(old.winners) - set(new.winners)
        still_raced = lost_winners & set(new.rounds or lost_winners)
        if still_raced:
            found.append(f"{season} {_rounds(still_raced)} would lose their winner")
        vanished = sorted((int(r), name) for r, name in old.raced.items()
                          if int(r) not in new.rounds)  # fmt: skip
        found += [f"{season} round {r} ({name}) would vanish" for r, name in vanished]
    return found


def hold_message(uid: str, changes: Iterable[str]) -> str:
    """The one sentence a held upload fails with, and how to accept it."""
    return (
        f"upload {uid} held: {'; '.join(changes)}. Nothing was published. If this is "
        f"intended, accept it: `f1-pipeline accept {uid}`, or launch the run again from the "
        f"UI with the tag f1/accept={uid}"
    )


def record_hold(
    storage: Storage,
    uid: str,
    sources: Mapping[str, Any],
    changes: list[str],
    run_id: str,
    over: str | None,
) -> None:
    """What upload ``uid`` would remove from upload ``over`` (the last accepted one)."""
    write_json(
        storage,
        layout.hold_record(uid),
        {"upload": uid, "over": over, "sources": dict(sources), "changes": changes,
         "held_at": now(), "run_id": run_id},
    )  # fmt: skip


def read_hold(storage: Storage, uid: str) -> dict[str, Any] | None:
    return read_json(storage, layout.hold_record(uid))


class NotHeld(ValueError):
    """An acceptance names an upload that was never held."""


def accept(
    storage: Storage,
    uid: str,
    accepted_by: Mapping[str, Any],
    changes: list[str] | None = None,
    over: str | None = None,
) -> dict[str, Any]:
    """The one writer of acceptances (the CLI's ``accept``, a run launched with the
    ``f1/accept`` tag): record that upload ``uid`` is accepted, by whom and from where
    (``accepted_by``: ``{"via": "cli", "user": ...}`` or ``{"via": "dagster run", "run_id":
    ...}``), with what it removes (``changes``) compared with the upload accepted before it
    (``over``): by default what its hold record says. It answers that hold only: the same
    bytes held again over another upload (a rollback past them) need a new acceptance."""
    if changes is None:
        hold = read_hold(storage, uid)
        if hold is None:
            raise NotHeld(f"upload {uid} was not held: there is nothing to accept")
        changes, over = list(hold.get("changes", [])), hold.get("over")
    record = {
        "upload": uid,
        "over": over,
        "changes": changes,
        "accepted_at": now(),
        "accepted_by": dict(accepted_by),
    }
    write_json(storage, layout.acceptance_record(uid), record)
    return record


def read_acceptance(storage: Storage, uid: str, over: str | None) -> dict[str, Any] | None:
    """The acceptance of ``uid`` held over upload ``over``, if one is recorded."""
    record = read_json(storage, layout.acceptance_record(uid))
    return record if record and record.get("over") == over else None
