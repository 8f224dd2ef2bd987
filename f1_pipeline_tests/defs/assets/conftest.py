from __future__ import annotations

import pytest
from dagster import instance_for_test

from f1_pipeline.definitions import build_definitions
from f1_pipeline_tests.conftest import local_env


@pytest.fixture
def instance():
    with instance_for_test() as inst:
        yield inst


@pytest.fixture
def defs(data_root, spark):
    """Definitions over ``data_root``; ``spark`` makes the assets reuse the suite's session."""
    return build_definitions(local_env(data_root))
