"""Uploads pushed, not polled: the bucket's S3 event notifications, read from the stack's
SQS queue (``F1_SOURCE_QUEUE_URL``), in place of listing ``source-data/`` every tick.

A message only says "look now": the decision is the listing sensor's own
(:func:`f1_pipeline.defs.sensors.source_data.evaluate`), on the source objects' current
checksums (one listing of ``source-data/``), so the guarantees are the same: a burst of uploads is
one run, an identical re-upload nothing, a write in the same second is seen (checksums, not
times). Between uploads a tick long-polls the queue (a few seconds: ticks stay short) and
reads the bucket only while work is pending, when the code version changed, or once a minute
(a hand-deleted output is noticed then).

A message is deleted only after the tick that read it has been recorded (with its run
request): the tick keeps the messages' receipts in its cursor and the next tick deletes them.
A sensor that dies mid-tick loses nothing: the messages come back after their visibility
timeout and are read again (harmless: decisions follow the data). A message that is not an
upload event for this root's source files (malformed, another bucket or key, S3's test
event) is logged and deleted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import BotoCoreError, ClientError
from dagster import (
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
)

from f1_pipeline.core.storage import S3Root
from f1_pipeline.core.upload import SOURCE_KEYS, look
from f1_pipeline.defs.jobs import f1_job
from f1_pipeline.defs.resources import StepRunnerResource, StorageResource, UploadQueueResource
from f1_pipeline.defs.sensors.cursor import JsonCursor, f1_sensor
from f1_pipeline.defs.sensors.source_data import UploadCursor, evaluate

# Longer than any tick and the interval between two: a message read by a tick stays hidden
# until the next tick has deleted it.
VISIBILITY_SECONDS = 120
BATCH = 10  # SQS's most per receive and per delete
MAX_BATCHES = 20  # per tick: a burst of 200 events is read in one tick
# Between uploads the bucket is still looked at this often: outputs deleted by hand, or a
# Glue job redeployed, are noticed without an upload.
RECONCILE_SECONDS = 60.0


@dataclass
class QueueCursor(JsonCursor):
    source: str = ""  # the listing sensor's cursor (UploadCursor), dumped
    receipts: list[str] = field(default_factory=list)  # to delete: read by the recorded tick
    in_sync: bool = False  # the last look found nothing due: wait for an event
    code: str = ""  # the code versions of that look
    looked_at: float = 0.0  # when (epoch seconds)


@dataclass(frozen=True)
class Event:
    keys: frozenset[str]  # the source keys (relative to the data root) the message names
    problem: str | None = None  # why it is dropped unread, if it is not an upload event


def parse_message(body: str, root: S3Root) -> Event:
    """The source files an S3 event notification names (keys are URL-encoded, ``+`` for a
    space); foreign keys and buckets are ignored, S3's test event names none."""
    try:
        message = json.loads(body)
    except ValueError:
        return Event(frozenset(), "not JSON")
    if not isinstance(message, dict):
        return Event(frozenset(), "not an S3 event notification")
    if message.get("Event") == "s3:TestEvent":
        return Event(frozenset())
    records = message.get("Records")
    if not isinstance(records, list):
        return Event(frozenset(), "not an S3 event notification (no Records)")
    keys = set()
    for record in records:
        try:
            if record["eventSource"] != "aws:s3" or record["s3"]["bucket"]["name"] != root.bucket:
                continue
            key = unquote_plus(record["s3"]["object"]["key"])
        except (KeyError, TypeError):
            return Event(frozenset(), "a record without eventSource, bucket or object key")
        relative = key[len(root.prefix) :] if key.startswith(root.prefix) else None
        if relative in SOURCE_KEYS:
            keys.add(relative)
    return Event(frozenset(keys))


class UploadQueue:
    """The queue's two operations a tick needs."""

    def __init__(self, client: Any, url: str) -> None:
        self.client, self.url = client, url

    def receive(self, wait_seconds: int) -> list[dict[str, Any]]:
        """What the queue holds now (waiting up to ``wait_seconds`` for the first)."""
        messages: list[dict[str, Any]] = []
        for _ in range(MAX_BATCHES):
            batch = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=BATCH,
                VisibilityTimeout=VISIBILITY_SECONDS,
                WaitTimeSeconds=0 if messages else wait_seconds,
            ).get("Messages", [])
            messages += batch
            if len(batch) < BATCH:
                break
        return messages

    def delete(self, receipts: Sequence[str]) -> list[str]:
        """Delete by receipt; return what could not be deleted (it will be read again)."""
        failed = []
        for start in range(0, len(receipts), BATCH):
            entries = [
                {"Id": str(i), "ReceiptHandle": r}
                for i, r in enumerate(receipts[start : start + BATCH])
            ]
            done = self.client.delete_message_batch(QueueUrl=self.url, Entries=entries)
            failed += [f"{f.get('Code')}: {f.get('Message')}" for f in done.get("Failed", [])]
        return failed


@f1_sensor(
    job=f1_job,
    name="source_queue_sensor",
    description="Keeps the published seasons built from the current source-data/ and code, "
    "woken by the bucket's upload events on the SQS queue (F1_SOURCE_QUEUE_URL) instead of "
    "listing the bucket: the same decisions as the listing sensor.",
)
def source_queue_sensor(
    context: SensorEvaluationContext,
    storage: StorageResource,
    upload_queue: UploadQueueResource,
    step_runner: StepRunnerResource,
):
    cursor = QueueCursor.load(context.cursor)
    queue = UploadQueue(upload_queue.client(), upload_queue.queue_url)
    root = storage.root()
    assert isinstance(root, S3Root), "the queue sensor needs an s3:// data root"

    # The previous tick is recorded (its cursor is this one): its messages can go.
    try:
        for problem in queue.delete(cursor.receipts):
            context.log.warning(f"a handled message was not deleted ({problem}); it returns")
    except (BotoCoreError, ClientError) as err:
        context.log.warning(f"deleting handled messages failed ({err}); they return")
    messages = queue.receive(upload_queue.wait_seconds)
    changed: set[str] = set()
    for message in messages:
        event = parse_message(message.get("Body", ""), root)
        if event.problem:
            context.log.warning(f"dropped message {message.get('MessageId')}: {event.problem}")
        changed |= event.keys
    receipts = [m["ReceiptHandle"] for m in messages]
    code = json.dumps(step_runner.code_versions(), sort_keys=True)
    now = time.time()
    quiet = cursor.in_sync and cursor.code == code and now - cursor.looked_at < RECONCILE_SECONDS
    if not changed and quiet:
        reason = (
            f"no upload events ({len(messages)} other message(s))"
            if messages
            else ("no upload events")
        )
        after = QueueCursor(cursor.source, receipts, True, code, cursor.looked_at)
        return SensorResult(skip_reason=SkipReason(reason), cursor=after.dump())
    if changed:
        context.log.info(f"upload events for {', '.join(sorted(changed))}")
    store = storage.get()
    source = UploadCursor.load(cursor.source or None)
    tick = evaluate(
        context, store, step_runner, partial(look, store), source, "source_queue_sensor"
    )
    after = QueueCursor(tick.cursor.dump(), receipts, tick.in_sync, code, now)
    result = tick.result
    return SensorResult(
        run_requests=result.run_requests,
        skip_reason=result.skip_reason,
        cursor=after.dump(),
        asset_events=result.asset_events,
    )
