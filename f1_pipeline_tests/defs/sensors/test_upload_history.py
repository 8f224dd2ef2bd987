"""A property-style test: random histories of uploads — corrections, added seasons, removed
seasons (held, then accepted), bad files, runs that fail — through Dagster's own sensor daemon
and run queue. After each step every published stats file equals what a clean run on the last
accepted upload publishes, and no season from an older upload survives."""

from __future__ import annotations

import random

import pytest

from f1_pipeline.core.holds import accept
from f1_pipeline.core.upload import look
from f1_pipeline_tests.defs.sensors.daemon import daemon
from f1_pipeline_tests.defs.sensors.test_convergence import World, keep_seasons, sample

pytestmark = pytest.mark.full  # the full tier: see docs/testing.md


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


def _seasons(races: bytes) -> list[int]:
    return sorted({int(r.split(b",")[1]) for r in races.splitlines()[1:]})


STEPS = ["edit", "remove", "add", "bad", "failed-run"]


@pytest.mark.parametrize("seed", [7, 23])
def test_random_upload_histories_converge(tmp_path, spark, seed, monkeypatch):
    from f1_pipeline.core.steps import publish

    rng = random.Random(seed)
    env = {"F1_DATA_ROOT": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path / "home")}
    with daemon(tmp_path, env) as loops:
        world = World(env["F1_DATA_ROOT"], loops, tmp_path)
        accepted = sample()
        world.upload(*accepted)
        loops.settle()
        assert world.published() == world.clean_run(*accepted)
        # Every kind of event once, in an order the seed picks, then one more at random.
        for step in [*rng.sample(STEPS, len(STEPS)), rng.choice(STEPS)]:
            races, results = accepted
            if step == "edit":
                candidate = _edit_a_result(races, results, rng)
            elif step == "remove":
                present = _seasons(races)
                gone = rng.choice(present[:-1] or present)
                candidate = keep_seasons(races, results, set(present) - {gone})
            elif step == "add":
                candidate = _with_history_season(races, results, rng.randrange(2005, 2018))
            elif step == "bad":
                candidate = (races.replace(b"Grand Prix", b"Grand Prix \xe9", 1), results)
            else:  # a run that fails after Dagster's retries: a bug in the stats step
                candidate = _edit_a_result(races, results, rng)
                broken = pytest.MonkeyPatch()  # its own: the test's also holds the env
                broken.setattr(publish, "contract_json", _broken)
            world.upload(*candidate)
            runs = loops.settle()
            assert len(runs) <= 1, step  # one run per upload, no retry storm
            if step == "remove":
                # Held: nothing removed; then accepted by name, and published.
                assert runs[0].status.value == "FAILURE"
                assert world.published() == world.clean_run(*accepted), step
                uid = look(world.storage).upload
                accept(world.storage, uid, {"via": "test"})
                [run] = loops.settle()
                assert run.status.value == "SUCCESS"
            if step == "failed-run":
                assert runs[0].status.value == "FAILURE"
                assert loops.settle() == []  # not requested again by itself
                broken.undo()
                assert world.published() == world.clean_run(*accepted), step
                continue
            if step != "bad":
                accepted = candidate
            # A refused upload leaves the last accepted one's outputs, exactly.
            assert world.published() == world.clean_run(*accepted), step


def _broken(*args, **kwargs):
    raise RuntimeError("a bug in the stats step")
