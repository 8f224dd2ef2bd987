import pytest

from f1_pipeline.defs.sensors import source_data


@pytest.fixture(autouse=True)
def settle_by_tick(monkeypatch):
    """These tests drive each tick by hand and check each decision, the settle included:
    settle by a whole tick. `test_source_data.py::test_an_upload_settles_within_one_tick`
    covers the in-tick settle the sensors use by default."""
    monkeypatch.setattr(source_data, "SETTLE_SECONDS", None)
