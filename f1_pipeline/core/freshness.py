"""Is the latest accepted upload up to date? The freshness promise is "stats for the latest
race by Monday 09:00 UTC"; what can actually be late is the provider's data.

A race is overdue when it started more than a grace period ago (36 h by default) and the
latest accepted upload has no results for it. Only races after the last race that has results
count: an old race without results (cancelled, or never in the export) is history, not
lateness. Plain Python and pyarrow over the cleaned tables: no Spark session for a check
that runs on a schedule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pyarrow.parquet as pq

from f1_pipeline.core.lineage import Commit
from f1_pipeline.core.storage import Storage

DEFAULT_GRACE = timedelta(hours=36)


@dataclass(frozen=True, order=True)
class Race:
    start: datetime  # UTC; midnight when the source has no time
    season: int
    round: int
    name: str
    race_id: int

    def describe(self) -> str:
        return f"{self.season} round {self.round} {self.name} ({self.start:%Y-%m-%d %H:%M} UTC)"


@dataclass(frozen=True)
class Freshness:
    overdue: list[Race]
    last_with_results: Race | None
    checked_at: datetime
    grace: timedelta

    @property
    def passed(self) -> bool:
        return not self.overdue

    def summary(self) -> str:
        if self.passed:
            last = self.last_with_results.describe() if self.last_with_results else "none"
            return f"no race is missing its results (latest with results: {last})"
        hours = self.grace.total_seconds() / 3600
        shown = "; ".join(r.describe() for r in self.overdue[:5])
        more = f" (+{len(self.overdue) - 5} more)" if len(self.overdue) > 5 else ""
        return (
            f"{len(self.overdue)} race(s) without results more than {hours:g} h after their "
            f"start: {shown}{more}"
        )


def race_start(day: date, start: str | None) -> datetime:
    clock = time.fromisoformat(start) if start else time(0, 0)
    return datetime.combine(day, clock, tzinfo=UTC)


def check_freshness(
    races: Iterable[Mapping[str, Any]],
    with_results: set[int],
    now: datetime,
    grace: timedelta = DEFAULT_GRACE,
) -> Freshness:
    """``races``: rows with race_id, season, round, race_name, race_date, race_time;
    ``with_results``: the race ids that have at least one result."""
    calendar = sorted(
        Race(race_start(r["race_date"], r["race_time"]), r["season"], r["round"],
             r["race_name"], r["race_id"])
        for r in races
    )  # fmt: skip
    done = [r for r in calendar if r.race_id in with_results]
    last = done[-1] if done else None
    overdue = [
        r
        for r in calendar
        if r.race_id not in with_results
        and (last is None or r.start > last.start)
        and r.start + grace < now
    ]
    return Freshness(overdue, last, now, grace)


_RACE_COLUMNS = ["race_id", "season", "round", "race_name", "race_date", "race_time"]


def freshness_of(
    storage: Storage, commit: Commit, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> Freshness:
    """:func:`check_freshness` on the cleaned tables the commit record names (the latest
    accepted upload), read by version."""
    races_table, results_table = commit.tables["races"], commit.tables["results"]
    with storage.local_copy(races_table.key, races_table.version_id) as (path, _):
        races = pq.read_table(path, columns=_RACE_COLUMNS).to_pylist()
    with storage.local_copy(results_table.key, results_table.version_id) as (path, _):
        ids = pq.read_table(path, columns=["race_id"]).column("race_id").unique().to_pylist()
    return check_freshness(races, set(ids), now, grace)
