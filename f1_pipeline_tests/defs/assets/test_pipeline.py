"""The assets materialised through a real Dagster instance and the local Spark session."""

from __future__ import annotations

import io
import json

import pyarrow.parquet as pq
from dagster import AssetKey, DagsterEventType

from f1_pipeline.cli.launch import ingest
from f1_pipeline.core.storage import layout
from f1_pipeline_tests.conftest import write_csv
from f1_pipeline_tests.runs import publish, season_events

SEASON_STATS = AssetKey(["results", "season_stats"])


def _check_evaluations(instance, run_id):
    records = instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION)
    return {
        r.dagster_event.event_specific_data.check_name: r.dagster_event.event_specific_data.passed
        for r in records
    }


def test_full_pipeline_publishes_the_golden_stats(defs, instance, data_root, expected_dir):
    # An upload is one run: the ingest, then every season (single-run backfill policy).
    stats = publish(defs, instance)
    assert len(stats.run_ids) == 1
    assert _check_evaluations(instance, stats.run_ids[0]) == {
        "race_id_unique": True,
        "season_round_unique": True,
        "no_published_data_removed": True,
        "result_id_unique": True,
        "race_id_in_races": True,
        "results_up_to_date": False,  # the sample stops after round 12 of 2024
        "published_files_agree": True,  # read back after the publish
    }
    rows = {m.asset: m.metadata["dagster/row_count"] for m in stats.materialized if not m.partition}
    assert rows == {"cleaned/races": 149, "cleaned/results": 2739}
    seasons = instance.get_dynamic_partitions("seasons")
    assert seasons == [str(y) for y in range(2018, 2025)]
    # The uploads are the raw (external) assets' materialisations, with their versions.
    raw = instance.get_latest_materialization_event(AssetKey(["source_data", "races"]))
    assert raw is not None
    assert raw.asset_materialization is not None
    assert raw.asset_materialization.metadata["size_bytes"].value > 0
    assert sorted(m.partition for m in stats.materialized if m.partition) == seasons
    for season in seasons:
        got = (data_root / layout.stats_json(season)).read_bytes()
        want = (expected_dir / f"stats_{season}.json").read_bytes()
        assert json.loads(got) == json.loads(want)
        assert got == want  # byte-identical, formatting included
    table = pq.read_table(data_root / layout.stats_parquet(2024)).to_pylist()
    british = next(r for r in table if r["race_name"] == "British Grand Prix")
    # The contract's winner lap vs the race's overall fastest lap (assignment example).
    assert (british["winner_driver_id"], british["winner_fastest_lap_time"]) == (1, "01:29.4")
    assert (british["fastest_lap_time"], british["fastest_lap_ms"]) == ("01:28.3", 88300)
    by_season = season_events(stats)
    # Each partition's event holds its own season's facts, not the run's.
    assert by_season["2024"]["dagster/partition_row_count"] == 24
    assert by_season["2018"]["dagster/partition_row_count"] == 21
    assert sorted(by_season["2024"]["files"]) == sorted(
        [str(data_root / layout.stats_json(2024)), str(data_root / layout.stats_parquet(2024))]
    )
    assert "| 2024 | 1 | Bahrain Grand Prix" in by_season["2024"]["preview"]
    assert "2023" not in by_season["2024"]["preview"]
    commit = json.loads((data_root / layout.season_fingerprints()).read_text())
    assert by_season["2024"]["fingerprint"] == commit["seasons"]["2024"]["fingerprint"]
    assert by_season["2024"]["run_race_count"] == 149  # the run's totals, not its seasons
    assert "run_rewritten_seasons" not in by_season["2024"]

    # The same upload again: nothing is rewritten, each season says so with its versions.
    again = season_events(publish(defs, instance))
    assert again["2024"]["unchanged"] is True
    assert again["2024"]["files"] == by_season["2024"]["files"]
    assert (data_root / layout.stats_json(2024)).read_bytes() == (
        expected_dir / "stats_2024.json"
    ).read_bytes()


def test_a_new_season_becomes_a_partition_without_code_change(defs, instance, data_root):
    races = data_root / layout.source_csv("races")
    races.write_bytes(
        races.read_bytes() + b"2000,2025,1,Australian Grand Prix,2025-03-16,04:00:00\r\n"
    )
    publish(defs, instance, [2025])
    assert "2025" in instance.get_dynamic_partitions("seasons")
    out = json.loads((data_root / layout.stats_json(2025)).read_text())
    assert out == [
        {
            "Race Name": "Australian Grand Prix",
            "Race Round": 1,
            "Race Datetime": "2025-03-16T04:00:00.000",
            "Race Winning driverId": None,
            "Race Fastest Lap": None,
        }
    ]
    assert not (data_root / layout.stats_json(2018)).exists()


def test_shared_drives_are_reported_not_fatal(defs, instance, data_root):
    results = data_root / layout.source_csv("results")
    # A second position-1 row (higher resultId) for the 2024 British GP.
    write_csv(results, results.read_text().replace("\r\n", "\n") + "99999,1132,4,1,01:30.0\n")
    stats = publish(defs, instance, [2024])
    meta = season_events(stats)["2024"]
    assert "British Grand Prix" in meta["shared_drive_races"]
    assert "shared_drive_races" not in season_events(publish(defs, instance, [2023]))["2023"]
    british = json.loads((data_root / layout.stats_json(2024)).read_text())[11]
    assert (british["Race Name"], british["Race Winning driverId"]) == ("British Grand Prix", 1)


def test_parquet_tables_are_readable(defs, instance, data_root):
    stage = ingest(defs, instance)
    races = pq.read_table(io.BytesIO((data_root / layout.cleaned_parquet("races")).read_bytes()))
    assert races.num_rows == 149
    # The catalog's columns (declared, and each materialisation's) are the files' columns.
    graph = defs.resolve_asset_graph()
    for m in stage.materialized:
        if m.asset.startswith("cleaned/"):
            declared = graph.get(AssetKey.from_user_string(m.asset)).metadata
            names = [c.name for c in declared["dagster/column_schema"].columns]
            assert m.metadata["dagster/column_schema"] == declared["dagster/column_schema"]
            assert (
                pq.read_schema(data_root / layout.cleaned_parquet(m.asset.split("/")[1])).names
                == names
            )
