"""What makes an upload held: per season, never in total; withdrawals and lost winners always."""

from __future__ import annotations

from f1_pipeline.core.holds import HoldPolicy, held_changes, hold_message, upload_id
from f1_pipeline.core.lineage import SeasonSummary

POLICY = HoldPolicy()


def _summary(races: int, results: int, winners=(), rounds=None) -> SeasonSummary:
    rounds = list(rounds if rounds is not None else range(1, races + 1))
    return SeasonSummary(f"{races}:{results}", races, results, rounds, list(winners))


BEFORE = {
    "2023": _summary(22, 440, range(1, 23)),
    "2024": _summary(24, 239, range(1, 13)),
}


def test_an_unchanged_or_growing_upload_is_not_held():
    assert held_changes(BEFORE, ["2023", "2024"], BEFORE, POLICY) == []
    grown = {**BEFORE, "2024": _summary(24, 259, range(1, 14)), "2025": _summary(3, 0)}
    assert held_changes(BEFORE, ["2023", "2024"], grown, POLICY) == []


def test_a_vanished_season_is_held_even_when_only_published():
    after = {"2024": BEFORE["2024"]}
    assert held_changes(BEFORE, ["2022", "2023", "2024"], after, POLICY) == [
        "would withdraw 2022, 2023 (published)"
    ]


def test_shrinking_is_judged_per_season_not_in_total():
    # 2024 loses 14 of its 24 races: 10 % of all races at most, but 58 % of its own.
    after = {**BEFORE, "2024": _summary(10, 199, range(1, 11))}
    assert held_changes(BEFORE, [], after, POLICY) == [
        "2024 would lose 14 of 24 races and 40 of 239 results"
    ]


def test_the_threshold_is_more_than_the_share():
    exactly = {**BEFORE, "2023": _summary(22, 396, range(1, 23))}  # 44 of 440: 10 %
    assert held_changes(BEFORE, [], exactly, POLICY) == []
    beyond = {**BEFORE, "2023": _summary(22, 395, range(1, 23))}
    assert held_changes(BEFORE, [], beyond, POLICY) == ["2023 would lose 45 of 440 results"]
    assert held_changes(BEFORE, [], beyond, HoldPolicy(max_shrink_percent=20.0)) == []


def test_a_race_losing_its_winner_is_held_a_vanished_race_is_counted_as_a_race():
    after = {**BEFORE, "2024": _summary(24, 235, range(1, 11))}
    assert held_changes(BEFORE, [], after, POLICY) == ["2024 rounds 11, 12 would lose their winner"]
    # Rounds that are gone altogether are the races lost, not lost winners.
    cut = {**BEFORE, "2024": _summary(10, 199, range(1, 11), rounds=range(1, 11))}
    assert held_changes(BEFORE, [], cut, POLICY) == [
        "2024 would lose 14 of 24 races and 40 of 239 results"
    ]


def test_a_race_that_had_results_never_vanishes_unnoticed():
    raced = {"5": "Miami Grand Prix", "6": "Monaco Grand Prix"}
    before = {"2023": SeasonSummary("fp", 22, 440, list(range(1, 23)), list(range(1, 23)), raced)}
    after = {"2023": SeasonSummary("fp2", 21, 420, [r for r in range(1, 23) if r != 6],
                                   [r for r in range(1, 23) if r != 6])}  # fmt: skip
    assert held_changes(before, ["2023"], after, POLICY) == [
        "2023 round 6 (Monaco Grand Prix) would vanish"
    ]
    # A record from before 0.2.0 names no races with results: the older rules alone.
    older = {"2023": SeasonSummary("fp", 22, 440, list(range(1, 23)), list(range(1, 23)))}
    assert held_changes(older, ["2023"], after, POLICY) == []


def test_the_message_names_the_upload_and_how_to_accept_it():
    uid = upload_id({"races": "a", "results": "b"})
    assert (
        uid
        == upload_id({"results": "b", "races": "a"})
        != upload_id({"races": "a", "results": "c"})
    )
    text = hold_message(uid, ["would withdraw 2018 (published)", "2024 would lose 3 of 24 races"])
    assert text.startswith(
        f"upload {uid} held: would withdraw 2018 (published); 2024 would lose 3 of 24 races. "
        "Nothing was published."
    )
    assert f"`f1-pipeline accept {uid}`" in text
    assert f"f1/accept={uid}" in text
