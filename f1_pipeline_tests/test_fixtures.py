"""The project's own copies of the sample and its golden outputs match the team's shared ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from f1_pipeline_tests.conftest import EXPECTED, REPO, SAMPLE_SOURCE

SHARED = REPO.parent / "shared" / "data"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_the_golden_outputs_cover_every_sample_season():
    assert sorted(p.name for p in EXPECTED.glob("stats_*.json")) == [
        f"stats_{season}.json" for season in range(2018, 2025)
    ]


@pytest.mark.skipif(not SHARED.is_dir(), reason="no ../shared beside this clone (as in CI)")
@pytest.mark.parametrize(
    ("ours", "theirs"), [(EXPECTED, "expected"), (SAMPLE_SOURCE, "source-data")]
)
def test_vendored_copies_are_byte_identical_to_the_shared_ones(ours: Path, theirs: str):
    assert _files(ours) == _files(SHARED / theirs)
