"""The ``--seasons`` argument shared by ``run`` and ``backfill``."""

from __future__ import annotations

import argparse

from f1_pipeline.core.transforms.schema import FIRST_SEASON, latest_plausible_season


def parse_seasons(text: str) -> list[int]:
    """``2023,2024``, ``2018-2024`` or a mix: ``2010,2018-2020``; every season a plausible one
    (checked before anything runs, so a typo cannot start a run over millions of seasons)."""
    first_ok, last_ok = FIRST_SEASON, latest_plausible_season()
    seasons: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            first, _, last = part.partition("-")
            low, high = int(first), int(last or first)
            if low > high:
                raise ValueError
            if low < first_ok or high > last_ok:
                raise argparse.ArgumentTypeError(
                    f"invalid seasons {text!r}: Formula 1 seasons run from {first_ok} to next "
                    f"year ({last_ok})"
                )
            seasons.update(range(low, high + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid seasons {text!r}: use a list (2023,2024) or a range (2018-2024)"
        ) from None
    if not seasons:
        raise argparse.ArgumentTypeError("no seasons given")
    return sorted(seasons)
