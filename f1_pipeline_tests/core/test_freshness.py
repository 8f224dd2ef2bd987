"""The freshness check's predicate, with a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from f1_pipeline.core.freshness import check_freshness


def _race(race_id: int, rnd: int, day: date, start: str | None = "14:00:00") -> dict:
    return {"race_id": race_id, "season": day.year, "round": rnd,
            "race_name": f"Race {rnd}", "race_date": day, "race_time": start}  # fmt: skip


# The sample's shape: results stop after round 12 (2024-07-07); round 13 is 2024-07-21.
CALENDAR = [
    *(_race(n, n, date(2024, 3, 2) + timedelta(weeks=n - 1)) for n in range(1, 12)),
    _race(12, 12, date(2024, 7, 7)),
    _race(13, 13, date(2024, 7, 21), "13:00:00"),
    *(_race(n, n, date(2024, 7, 21) + timedelta(weeks=2 * (n - 13))) for n in range(14, 25)),
]
WITH_RESULTS = set(range(1, 13))


def test_a_race_is_late_36_hours_after_its_start():
    just_before = datetime(2024, 7, 23, 0, 59, tzinfo=UTC)  # 35 h 59 min after the start
    assert check_freshness(CALENDAR, WITH_RESULTS, just_before).passed
    after = datetime(2024, 7, 23, 1, 1, tzinfo=UTC)
    late = check_freshness(CALENDAR, WITH_RESULTS, after)
    assert not late.passed
    assert [r.round for r in late.overdue] == [13]
    assert late.summary() == (
        "1 race(s) without results more than 36 h after their start: 2024 round 13 Race 13 "
        "(2024-07-21 13:00 UTC)"
    )


def test_on_a_later_day_every_past_race_after_the_last_with_results_is_named():
    late = check_freshness(CALENDAR, WITH_RESULTS, datetime(2026, 12, 4, tzinfo=UTC))
    assert [r.round for r in late.overdue] == list(range(13, 25))
    assert late.last_with_results is not None
    assert late.last_with_results.round == 12


def test_old_races_without_results_are_history_not_lateness():
    # A race before the last one with results has none (cancelled, or never in the export).
    results = WITH_RESULTS - {5}
    now = datetime(2024, 7, 10, tzinfo=UTC)
    assert check_freshness(CALENDAR, results, now).passed


def test_a_race_without_a_time_starts_at_midnight_utc():
    calendar = [*CALENDAR[:12], _race(13, 13, date(2024, 7, 21), None)]
    late = check_freshness(calendar, WITH_RESULTS, datetime(2024, 7, 22, 12, 1, tzinfo=UTC))
    assert [r.round for r in late.overdue] == [13]
    assert check_freshness(calendar, WITH_RESULTS, datetime(2024, 7, 22, 11, 59, tzinfo=UTC)).passed
