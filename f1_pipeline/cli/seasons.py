"""The ``--seasons`` argument shared by ``run`` and ``backfill``."""

from __future__ import annotations

import argparse


def parse_seasons(text: str) -> list[int]:
    """``2023,2024``, ``2018-2024`` or a mix: ``2010,2018-2020``."""
    seasons: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            if "-" in part:
                first, last = (int(x) for x in part.split("-", 1))
                if first > last:
                    raise ValueError
                seasons.update(range(first, last + 1))
            else:
                seasons.add(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid seasons {text!r}: use a list (2023,2024) or a range (2018-2024)"
        ) from None
    if not seasons:
        raise argparse.ArgumentTypeError("no seasons given")
    return sorted(seasons)
