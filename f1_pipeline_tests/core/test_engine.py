"""The warm engine's warm-up (the server itself is tested through `f1-pipeline spark`, in
cli/test_spark.py): its upload must pass every rule the steps apply, or the warm-up would
end at its first step, silently (its output is not shown), and warm nothing."""

from __future__ import annotations

from f1_pipeline.core.engine import WARM_UP_ROUNDS, warm_up_steps, warm_up_upload


def test_the_warm_up_publishes_every_season_of_its_upload(spark):
    assert WARM_UP_ROUNDS > 1  # the JIT compiles what runs often, not once
    published = warm_up_steps(spark, rounds=1)
    races = warm_up_upload()["races"].splitlines()[1:]
    assert published == sorted({int(line.split(",")[1]) for line in races})
    assert len(published) == 40
