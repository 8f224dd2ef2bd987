from __future__ import annotations

from f1_pipeline.defs.instance import prepare_home, render_template
from f1_pipeline.defs.partitions import contiguous_ranges


def test_contiguous_ranges_follow_partition_order():
    order = ["2018", "2019", "2020", "2024", "1999"]
    assert contiguous_ranges(order, ["2019", "2018", "2020"]) == [("2018", "2020")]
    assert contiguous_ranges(order, ["2018", "2020", "1999", "2024"]) == [
        ("2018", "2018"),
        ("2020", "1999"),
    ]
    assert contiguous_ranges(order, []) == []


def test_prepare_home_writes_a_versioned_config_and_never_touches_an_operators(tmp_path):
    home = prepare_home(tmp_path / "home")
    config = home / "dagster.yaml"
    assert config.read_text() == render_template(home)
    assert config.read_text().startswith("# f1-pipeline instance template v3")
    assert "{storage}" not in config.read_text()
    assert f'base_dir: "{home.resolve()}"' in config.read_text()

    config.write_text("# operator's own\n")
    prepare_home(home)
    assert config.read_text() == "# operator's own\n"


def test_a_home_generated_by_an_older_template_is_rewritten(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    older = render_template(home).replace("template v3", "template v2").replace("dequeue", "x")
    (home / "dagster.yaml").write_text(older)
    prepare_home(home)
    assert (home / "dagster.yaml").read_text() == render_template(home)


def test_the_template_makes_a_working_instance(tmp_path, monkeypatch):
    from dagster import DagsterInstance

    home = prepare_home(tmp_path / "home")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with DagsterInstance.get() as instance:
        assert not instance.nux_enabled  # no newsletter pop-up over the first page
        assert instance.run_coordinator.dequeue_interval_seconds == 1
        assert instance.get_settings("sensors")["use_threads"]
        assert type(instance.event_log_storage).__module__.startswith("dagster.")  # Dagster's
        assert (home / "history" / "runs").is_dir()
