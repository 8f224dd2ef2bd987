from __future__ import annotations

from f1_pipeline.core import warm_up
from f1_pipeline.core.synthetic import export


def test_the_warm_up_publishes_every_season_of_its_upload(spark):
    # A warm-up that fails is silent (`spark start` ignores its outcome): its upload must
    # stay valid, seasons after next year included.
    assert warm_up.warm_up(spark, rounds=1) == list(warm_up.SEASONS)
    races, results = export(warm_up.SEASONS)
    assert len(races.splitlines()) > 700
    assert len(results.splitlines()) > 10_000
