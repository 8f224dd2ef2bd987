"""`f1-pipeline accept` and `run --accept`: a held upload is accepted by name only, and the
acceptance recorded (who, from where)."""

from __future__ import annotations

import json

from f1_pipeline.cli import main
from f1_pipeline.core.storage import layout


def test_a_held_upload_is_accepted_by_name_from_the_command_line(pipeline_env, capsys, spark):
    from f1_pipeline.core.storage import LocalStorage
    from f1_pipeline.core.upload import look

    assert main(["run"]) == 0
    races = pipeline_env / layout.source_csv("races")
    results = pipeline_env / layout.source_csv("results")
    kept = [line for line in races.read_text().splitlines(keepends=True)
            if not line.split(",")[1].startswith("2018")]  # fmt: skip
    races.write_text("".join(kept))
    kept_ids = {line.split(",")[0] for line in races.read_text().splitlines()}
    results.write_text(
        "".join(r for r in results.read_text().splitlines(keepends=True)
                if r.startswith("resultId") or r.split(",")[1] in kept_ids)
    )  # fmt: skip
    capsys.readouterr()
    assert main(["run"]) == 1
    err = capsys.readouterr().err
    assert "the upload was held; nothing was published" in err
    assert "would withdraw 2018 (published)" in err
    assert (pipeline_env / layout.stats_json(2018)).exists()

    uid = look(LocalStorage(pipeline_env)).upload
    assert main(["accept"]) == 1  # what is held, and how to accept it
    assert f"`f1-pipeline accept {uid}`" in capsys.readouterr().out
    assert main(["accept", "0123456789ab"]) == 1  # another upload: refused
    assert "is not the current upload" in capsys.readouterr().err
    assert main(["run", "--accept", uid]) == 0
    out = capsys.readouterr().out
    assert f"accepted upload {uid} (would withdraw 2018 (published))" in out
    assert "season 2018: withdrawn (accepted; its files kept out of view)" in out
    assert not (pipeline_env / layout.stats_json(2018)).exists()
    assert list((pipeline_env / "archive").rglob("stats_2018.json"))
    record = json.loads((pipeline_env / layout.acceptance_record(uid)).read_text())
    assert record["accepted_by"]["via"] == "cli"
    assert record["accepted_by"]["user"]
