"""The queue-driven upload sensor against moto over HTTP: the bucket's real S3 event
notifications delivered to an SQS queue, read by the sensor ticked as the daemon would."""

from __future__ import annotations

import json
import os
import time
import uuid

import boto3
import pytest
from dagster import build_sensor_context, instance_for_test

from f1_pipeline.core.storage import S3Root
from f1_pipeline.definitions import build_definitions
from f1_pipeline.defs.sensors import source_queue
from f1_pipeline.defs.sensors.source_queue import parse_message, source_queue_sensor
from f1_pipeline_tests.conftest import SAMPLE_SOURCE
from f1_pipeline_tests.defs.sensors.helpers import execute

PREFIX = "f1/"


@pytest.fixture
def queue_url(bucket, aws_env, monkeypatch) -> str:
    """A queue receiving the bucket's ObjectCreated events under the root's source-data/,
    as the stack configures them."""
    sqs = boto3.client("sqs", endpoint_url=aws_env, region_name="eu-west-1")
    url = sqs.create_queue(QueueName=f"uploads-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    s3 = boto3.client("s3", endpoint_url=aws_env, region_name="eu-west-1")
    rule = {"Name": "prefix", "Value": f"{PREFIX}source-data/"}
    queue = {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
             "Filter": {"Key": {"FilterRules": [rule]}}}  # fmt: skip
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [queue]}
    )
    monkeypatch.setenv("F1_DATA_ROOT", f"s3://{bucket}/{PREFIX}")
    monkeypatch.setenv("F1_SOURCE_QUEUE_URL", url)
    return url


class QueuePlatform:
    """The code location with the queue sensor (long polls shortened), ticked by hand."""

    def __init__(self, instance, s3_client, bucket, sqs, url) -> None:
        self.defs = build_definitions(os.environ)
        self.resources = {
            **self.defs.resources,
            "upload_queue": self.defs.resources["upload_queue"].model_copy(
                update={"wait_seconds": 0}
            ),
        }
        self.instance, self.s3, self.bucket, self.sqs, self.url = (
            instance, s3_client, bucket, sqs, url
        )  # fmt: skip
        self.cursor: str | None = None

    def tick(self, keep_cursor: bool = True):
        with build_sensor_context(
            instance=self.instance, cursor=self.cursor, resources=self.resources,
            definitions=self.defs,
        ) as context:  # fmt: skip
            data = source_queue_sensor.evaluate_tick(context)
        if keep_cursor:  # else: the tick died before the daemon recorded it
            self.cursor = data.cursor
        return data

    def upload(self, table: str, body: bytes | None = None) -> None:
        data = body if body is not None else (SAMPLE_SOURCE / f"{table}.csv").read_bytes()
        self.s3.put_object(Bucket=self.bucket, Key=f"{PREFIX}source-data/{table}.csv", Body=data)

    def messages_left(self) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    from f1_pipeline.defs.sensors import source_data

    monkeypatch.setattr(source_data, "_pause", lambda seconds: None)


@pytest.fixture
def platform(queue_url, aws_env, s3_client, bucket):
    sqs = boto3.client("sqs", endpoint_url=aws_env, region_name="eu-west-1")
    with instance_for_test() as instance:
        yield QueuePlatform(instance, s3_client, bucket, sqs, queue_url)


def test_a_queue_url_swaps_the_listing_sensor_for_the_queue_sensor(platform):
    names = {s.name for s in platform.defs.sensors}
    assert names == {
        "source_queue_sensor",
        "run_failure_alert_sensor",
        "freshness_alert_sensor",
        "published_files_alert_sensor",
        "tick_failure_alert_sensor",
    }


def test_a_burst_is_one_run_and_an_identical_reupload_nothing(platform, spark):
    first = platform.tick()
    assert first.skip_message == "no source files uploaded yet"

    platform.upload("races")
    platform.upload("results")  # a burst: two events, one run
    data = platform.tick()
    [request] = data.run_requests
    assert request.tags["f1/trigger"] == "source_queue_sensor"
    assert json.loads(request.tags["f1/source_versions"]).keys() == {"races", "results"}
    assert platform.messages_left() == 2  # deleted by the next tick, once this one is recorded

    assert execute(platform.defs, platform.instance, data, request).success
    built = platform.tick()
    assert built.skip_message == "published seasons are built from the current upload and code"
    assert platform.messages_left() == 0
    quiet = platform.tick()
    assert quiet.skip_message == "no upload events"  # no S3 request between uploads

    platform.upload("races")  # the same bytes again
    again = platform.tick()
    assert again.skip_message == "published seasons are built from the current upload and code"
    assert not again.run_requests


def test_a_tick_that_dies_before_it_is_recorded_loses_nothing(platform, monkeypatch):
    monkeypatch.setattr(source_queue, "VISIBILITY_SECONDS", 1)
    platform.tick()
    platform.upload("races")
    platform.upload("results")
    lost = platform.tick(keep_cursor=False)  # read the events, then died
    [request] = lost.run_requests
    assert platform.messages_left() == 2  # not deleted: the dead tick recorded nothing

    time.sleep(1.5)  # the events become visible again
    [replayed] = platform.tick().run_requests
    # The same run key: had the daemon recorded the first, it would launch nothing twice.
    assert replayed.run_key == request.run_key
    platform.tick()
    assert platform.messages_left() == 0


def test_malformed_and_foreign_messages_are_dropped(platform):
    platform.tick()
    platform.sqs.send_message(QueueUrl=platform.url, MessageBody="not json {")
    foreign = {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "other"},
                            "object": {"key": "f1/source-data/races.csv"}}}]}  # fmt: skip
    platform.sqs.send_message(QueueUrl=platform.url, MessageBody=json.dumps(foreign))
    dropped = platform.tick()
    assert dropped.run_requests == []
    platform.tick()
    assert platform.messages_left() == 0


def test_parse_message_reads_encoded_keys_under_the_root():
    root = S3Root("b", "f1/")

    def event(bucket: str, key: str) -> str:
        record = {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                  "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}  # fmt: skip
        return json.dumps({"Records": [record]})

    assert parse_message(event("b", "f1%2Fsource-data%2Fraces.csv"), root).keys == {
        "source-data/races.csv"
    }
    assert parse_message(event("b", "f1/source-data/results.csv"), root).keys == {
        "source-data/results.csv"
    }
    assert parse_message(event("b", "source-data/races.csv"), root).keys == set()  # no prefix
    assert parse_message(event("b", "f1/source-data/drivers.csv"), root).keys == set()
    assert parse_message(event("c", "f1/source-data/races.csv"), root).keys == set()
    test_event = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "b"})
    assert parse_message(test_event, root) == source_queue.Event(frozenset())
    assert parse_message("[1]", root).problem == "not an S3 event notification"
    assert parse_message('{"Records": [{"s3": {}}]}', root).problem.startswith("a record")


def test_a_queue_needs_an_s3_root(tmp_path):
    from f1_pipeline.defs.config import ConfigError

    with pytest.raises(ConfigError, match="F1_SOURCE_QUEUE_URL needs F1_DATA_ROOT=s3://"):
        build_definitions({"F1_DATA_ROOT": str(tmp_path), "F1_SOURCE_QUEUE_URL": "http://q"})
