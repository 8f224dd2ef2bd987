"""The history of accepted uploads and rollback, on the steps: A published, B (a wrong winner
that passes every check) published, A made current again — every published file is A's,
byte for byte; the history lists all three, the third recognised as A by its content."""

from __future__ import annotations

import logging

import pytest

from f1_pipeline.core.history import RollbackRefused, history, restorable, restore
from f1_pipeline.core.steps import StepContext, run_step
from f1_pipeline.core.steps.io import LocalStagedIO
from f1_pipeline.core.storage import LocalStorage, layout
from f1_pipeline.core.upload import look

LOG = logging.getLogger("f1_pipeline_tests.history")
SEASONS = [str(s) for s in range(2018, 2025)]


def _published_files(root) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in (root / "results").rglob("*")
        if p.is_file() and not p.name.startswith("_")  # the manifest says when: not A's
    }


def wrong_winner(results: bytes) -> bytes:
    """The 2024 British GP (raceId 1132) with its first two positions swapped: same rows,
    same counts, a winner still — every check passes, the winner is wrong."""
    lines = results.splitlines(keepends=True)
    for i, line in enumerate(lines):
        fields = line.split(b",")
        if fields[1] == b"1132" and fields[3] in (b"1", b"2"):
            fields[3] = b"2" if fields[3] == b"1" else b"1"
            lines[i] = b",".join(fields)
    return b"".join(lines)


def _publish(ctx, params=None):
    run_step("ingest", ctx, params or {})
    return run_step("season_stats", ctx, {"seasons": SEASONS})


def test_a_rollback_republishes_the_earlier_upload_byte_for_byte(spark, data_root):
    storage = LocalStorage(data_root)
    ctx = StepContext(storage, spark, LocalStagedIO(storage), LOG, "run", lambda _: None)
    _publish(ctx)
    a, published_a = look(storage).upload, _published_files(data_root)
    results = data_root / layout.source_csv("results")
    results.write_bytes(wrong_winner(results.read_bytes()))
    assert _publish(ctx).data["rewritten"] == ["2024"]
    b = look(storage).upload
    assert _published_files(data_root) != published_a

    by = {"via": "cli", "user": "tester"}
    assert restore(storage, a, by) == a  # a local root: the same bytes, the same id
    _publish(ctx)
    assert _published_files(data_root) == published_a
    uploads = history(storage)
    assert [u.upload for u in uploads] == [a, b, a]  # a local root: the same bytes, same id
    assert uploads[1].seasons_changed == ["2024"]
    assert uploads[0].seasons_changed == SEASONS
    assert uploads[0].accepted_by is None  # nothing was held: accepted automatically
    assert uploads[2].same_content_as == a
    assert uploads[2].rollback["of"] == a
    assert uploads[2].rollback["by"] == by
    assert uploads[2].content == uploads[0].content
    assert uploads[0].kept_at["races"].startswith(str(data_root / "archive" / "uploads" / a))


def test_only_the_last_uploads_are_kept_locally_and_older_ones_refuse_in_one_sentence(
    spark, data_root
):
    storage = LocalStorage(data_root)
    ctx = StepContext(storage, spark, LocalStagedIO(storage), LOG, "run", lambda _: None)
    ids = []
    results = data_root / layout.source_csv("results")
    for extra in range(3):
        if extra:
            results.write_bytes(
                results.read_bytes() + f"9900{extra},1132,9{extra},\\N,\\N\n".encode()
            )
        run_step("ingest", ctx, {"keep": 2})
        ids.append(look(storage).upload)
    assert [u.upload for u in history(storage)] == ids  # the records all stay
    kept = sorted(p.name for p in (data_root / "archive" / "uploads").iterdir())
    assert kept == sorted(ids[1:])
    restorable(storage, ids[1])
    with pytest.raises(RollbackRefused, match=f"upload {ids[0]}'s source files are no longer"):
        restorable(storage, ids[0])
    with pytest.raises(RollbackRefused, match="upload 0123456789ab is not in the history"):
        restorable(storage, "0123456789ab")
