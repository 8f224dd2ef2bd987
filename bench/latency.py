"""Upload -> published, through what `make ui` runs: a `dagster dev` daemon (sensors, run
queue, run workers) with the warm Spark Connect server, against moto's S3 server on
loopback. Measures the first upload of the sample (all seasons published) and one changed
2024 result (stats_2024.json republished, no other season rewritten)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

from f1_pipeline_tests.e2e.dagster_dev import dagster_dev

BUCKET = "f1-bench"
CHANGED = (b"26505,1132,1,1,01:29.4", b"26505,1132,1,1,01:29.3")  # 2024 British GP winner


def _versions(s3, prefix: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET, Prefix=prefix):
        for version in page.get("Versions", []):
            found.setdefault(version["Key"], []).append(version["VersionId"])
    return found


def _wait(predicate, timeout: float, what: str, log: Path) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if predicate():
            return time.perf_counter()
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}; see {log}")


def bench_latency(out: Path, sample: Path, queue: bool = False) -> None:
    """``queue``: uploads pushed to the sensor through S3 event notifications on SQS (the
    stack's queue, F1_SOURCE_QUEUE_URL) instead of it listing the bucket."""
    from moto.server import ThreadedMotoServer

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its state per process: start from an empty account each time.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    saved = dict(os.environ)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "eu-west-1",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "F1_DATA_ROOT": f"s3://{BUCKET}",
            "DAGSTER_HOME": str(out / "dagster_home"),
            "DAGSTER_EVENT_BATCH_SIZE": "1000",
            "DAGSTER_DISABLE_TELEMETRY": "1",
        }
    )
    os.environ.pop("F1_SPARK_REMOTE", None)
    cli = str(Path(sys.executable).with_name("f1-pipeline"))
    s3 = boto3.client("s3")
    try:
        s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        if queue:
            sqs = boto3.client("sqs")
            url = sqs.create_queue(QueueName="f1-uploads")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            rule = {"Name": "prefix", "Value": "source-data/"}
            s3.put_bucket_notification_configuration(
                Bucket=BUCKET,
                NotificationConfiguration={
                    "QueueConfigurations": [
                        {
                            "QueueArn": arn,
                            "Events": ["s3:ObjectCreated:*"],
                            "Filter": {"Key": {"FilterRules": [rule]}},
                        }
                    ]
                },
            )
            os.environ["F1_SOURCE_QUEUE_URL"] = url
        subprocess.run([cli, "spark", "start"], check=True, capture_output=True)
        log = out / "dagster-dev.log"
        with dagster_dev(log):
            time.sleep(10)  # the daemon's first sensor ticks: nothing uploaded yet
            races, results = (
                (sample / "races.csv").read_bytes(),
                (sample / "results.csv").read_bytes(),
            )
            start = time.perf_counter()
            s3.put_object(Bucket=BUCKET, Key="source-data/races.csv", Body=races)
            s3.put_object(Bucket=BUCKET, Key="source-data/results.csv", Body=results)
            seasons = 7

            def all_published() -> bool:
                listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="results/stats_")
                return listed.get("KeyCount", 0) >= seasons

            first = _wait(all_published, 600, "the first upload's stats", log) - start
            before = _versions(s3, "results/")
            time.sleep(6)  # every sensor has seen the published state
            start = time.perf_counter()
            s3.put_object(
                Bucket=BUCKET, Key="source-data/results.csv", Body=results.replace(*CHANGED)
            )
            key = "results/stats_2024.json"
            changed = (
                _wait(
                    lambda: len(_versions(s3, key).get(key, [])) > len(before[key]),
                    600,
                    "stats_2024.json republished",
                    log,
                )
                - start
            )
            time.sleep(8)  # anything else a run would (wrongly) rewrite
            after = _versions(s3, "results/")
            rewritten = sorted(
                k
                for k in after
                if "2024" not in k
                and k != "results/_manifest.json"
                and len(after[k]) != len(before.get(k, []))
            )
        sensor = "queue sensor (SQS events)" if queue else "listing sensor"
        print(f"\nupload -> published (dagster dev + warm Spark server, S3 on moto, {sensor}):")
        print(f"  first upload of the sample -> {seasons} seasons published: {first:.1f}s")
        print(
            f"  one changed 2024 result -> stats_2024.json republished: {changed:.1f}s; "
            f"other seasons' files rewritten: {rewritten or 'none'}"
        )
    finally:
        subprocess.run([cli, "spark", "stop"], capture_output=True)
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
