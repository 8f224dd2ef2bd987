from __future__ import annotations

from f1_pipeline.cli.launch import contiguous_ranges
from f1_pipeline.defs.instance import prepare_home, render_template


def test_contiguous_ranges_follow_partition_order():
    order = ["2018", "2019", "2020", "2024", "1999"]
    assert contiguous_ranges(order, ["2019", "2018", "2020"]) == [("2018", "2020")]
    assert contiguous_ranges(order, ["2018", "2020", "1999", "2024"]) == [
        ("2018", "2018"),
        ("2020", "1999"),
    ]
    assert contiguous_ranges(order, []) == []


def test_prepare_home_writes_config_once(tmp_path):
    home = prepare_home(tmp_path / "home")
    config = home / "dagster.yaml"
    assert config.read_text() == render_template(home)
    assert "{storage}" not in config.read_text()
    assert f'base_dir: "{home}/history/runs"' in config.read_text()
    assert "enabled: false" in config.read_text()

    config.write_text("# operator's own\n")
    prepare_home(home)
    assert config.read_text() == "# operator's own\n"


def test_the_template_makes_a_working_instance(tmp_path, monkeypatch):
    from dagster import DagsterInstance

    from f1_pipeline.defs.instance.event_log import BatchingSqliteEventLogStorage

    home = prepare_home(tmp_path / "home")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get() as instance:
        assert not instance.nux_enabled  # no newsletter pop-up over the first page
        assert instance.run_coordinator.dequeue_interval_seconds == 1
        assert instance.get_settings("sensors")["use_threads"]

        assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage)
        assert (home / "history" / "runs").is_dir()
