"""The ``--seasons`` argument shared by ``run`` and ``backfill``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from f1_pipeline.cli.errors import usage_error
from f1_pipeline.core.transforms.schema import FIRST_SEASON


def parse_seasons(text: str) -> list[int]:
    """``2023,2024``, ``2018-2024`` or a mix: ``2010,2018-2020``. Years only (four digits):
    whether they are plausible seasons is :func:`check_plausible`'s, once settings are read."""
    seasons: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            first, _, last = part.partition("-")
            low, high = int(first), int(last or first)
            if low > high or low < 1 or high > 9999:
                raise ValueError
            seasons.update(range(low, high + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid seasons {text!r}: use a list (2023,2024) or a range (2018-2024)"
        ) from None
    if not seasons:
        raise argparse.ArgumentTypeError("no seasons given")
    return sorted(seasons)


def check_plausible(seasons: Sequence[int] | None, last: int) -> None:
    """Refuse (exit 2, before any work) seasons outside FIRST_SEASON..``last``: a typo must
    not start a run over thousands of seasons."""
    if seasons and (seasons[0] < FIRST_SEASON or seasons[-1] > last):
        raise usage_error(
            f"invalid seasons {seasons[0]}..{seasons[-1]}: Formula 1 seasons run from "
            f"{FIRST_SEASON} to {last} (F1_LATEST_SEASON, default next year)"
        )
