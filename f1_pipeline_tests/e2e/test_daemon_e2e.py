"""The real thing: `dagster dev` (webserver + daemon) watching a bucket on moto's S3
server. Uploading the sample is all it takes for the golden stats to appear."""

from __future__ import annotations

import json

import pytest

from f1_pipeline.cli import main
from f1_pipeline.defs.instance import prepare_home
from f1_pipeline_tests.conftest import SAMPLE_SOURCE
from f1_pipeline_tests.e2e.dagster_dev import dagster_dev, wait_until

pytestmark = pytest.mark.e2e


def test_upload_alone_publishes_the_golden_stats(
    bucket, s3_client, tmp_path, expected_dir, monkeypatch
):
    monkeypatch.setenv("F1_DATA_ROOT", f"s3://{bucket}")
    monkeypatch.setenv("DAGSTER_HOME", str(prepare_home(tmp_path / "dagster_home")))
    log = tmp_path / "dagster-dev.log"
    with dagster_dev(log, wait_for_graphql=False):
        sources = [str(SAMPLE_SOURCE / "races.csv"), str(SAMPLE_SOURCE / "results.csv")]
        assert main(["upload", *sources]) == 0

        def manifest_written():
            listed = s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])
            return "results/_manifest.json" in {o["Key"] for o in listed}

        wait_until(manifest_written, 300, "the stats in the bucket", log)
    for season in range(2018, 2025):
        body = s3_client.get_object(Bucket=bucket, Key=f"results/stats_{season}.json")["Body"]
        want = json.loads((expected_dir / f"stats_{season}.json").read_text())
        assert json.loads(body.read()) == want, season
