"""A property-style test: random histories of uploads — corrections, added and removed
seasons, bad files, failed runs — through the real sensors and runs. After each settle, every
published stats file equals what a clean run on the last accepted upload publishes, and no
season from an older upload survives."""

from __future__ import annotations

import random

import pytest
from dagster import DagsterRunStatus, instance_for_test
from dagster._core.test_utils import create_run_for_test

from f1_pipeline_tests.conftest import local_settings
from f1_pipeline_tests.defs.sensors.helpers import Platform
from f1_pipeline_tests.defs.sensors.test_convergence import (
    clean_run,
    published,
    sample,
    upload,
    without_season,
)


def _with_history_season(races: bytes, results: bytes, season: int) -> tuple[bytes, bytes]:
    """Add an older season: a copy of 2019's races under new ids and the given year."""
    lines = races.decode().splitlines(keepends=True)
    added = []
    for n, line in enumerate(r for r in lines[1:] if r.split(",")[1] == "2019"):
        fields = line.split(",")
        fields[0] = str(50_000 + season * 100 + n)
        fields[1] = str(season)
        fields[4] = f"{season}{fields[4][4:]}"
        added.append(",".join(fields))
    return "".join(lines + added).encode(), results


def _edit_a_result(races: bytes, results: bytes, rng: random.Random) -> tuple[bytes, bytes]:
    lines = results.decode().splitlines(keepends=True)
    i = rng.randrange(1, len(lines))
    fields = lines[i].split(",")
    fields[2] = str(rng.randrange(1, 900))  # another driver
    lines[i] = ",".join(fields)
    return races, "".join(lines).encode()


STEPS = ["edit", "remove", "add", "bad", "failed-run"]


@pytest.mark.parametrize("seed", [7])
def test_random_upload_histories_converge(tmp_path, spark, seed):
    rng = random.Random(seed)
    with instance_for_test() as instance:
        platform = Platform(local_settings(tmp_path / "data"), instance)
        accepted = sample()
        upload(platform, *accepted)
        platform.react()
        assert published(platform) == clean_run(tmp_path, *accepted)
        # Every kind of event once, in an order the seed picks, then one more at random.
        for step in [*rng.sample(STEPS, len(STEPS)), rng.choice(STEPS)]:
            races, results = accepted
            if step == "edit":
                candidate = _edit_a_result(races, results, rng)
            elif step == "remove":
                present = sorted({int(r.split(b",")[1]) for r in races.splitlines()[1:]})
                candidate = without_season(races, results, rng.choice(present[:-1] or present))
            elif step == "add":
                candidate = _with_history_season(races, results, rng.randrange(2005, 2018))
            elif step == "bad":
                candidate = (races.replace(b"Grand Prix", b"Grand Prix \xe9", 1), results)
            else:
                # A run that died: recorded as failed; the sensors must not be stuck on it.
                create_run_for_test(instance, job_name="ingest_job",
                                    status=DagsterRunStatus.FAILURE)  # fmt: skip
                candidate = _edit_a_result(races, results, rng)
            upload(platform, *candidate)
            platform.react()
            if step != "bad":
                accepted = candidate
            # The refused upload leaves the last accepted one's outputs, exactly.
            assert published(platform) == clean_run(tmp_path, *accepted), step
