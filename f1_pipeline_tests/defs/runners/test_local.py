"""Local runs take their session from dagster-pyspark's LazyPySparkResource: a run with
nothing to compute starts no Spark."""

from __future__ import annotations

from dagster import instance_for_test

from f1_pipeline.cli.launch import ingest
from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.resources import SparkResource
from f1_pipeline_tests.conftest import local_env


def test_a_run_that_computes_nothing_starts_no_spark(data_root, spark, monkeypatch):
    real, asked = SparkResource.session, []

    def session(self, *args):
        asked.append(args)
        return real(self, *args)

    monkeypatch.setattr(SparkResource, "session", session)
    defs = build_definitions(local_env(data_root))
    with instance_for_test() as instance:
        ingest(defs, instance)
        assert len(asked) == 1
        ingest(defs, instance)  # the same upload, the same code: nothing to compute
        assert len(asked) == 1
