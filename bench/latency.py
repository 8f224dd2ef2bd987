"""Upload -> published against moto's S3 server on loopback, with the listing sensor, or with
uploads pushed through S3 event notifications on SQS (``queue``: F1_SOURCE_QUEUE_URL), in two
deployment shapes (``shapes``), one after the other, each with its warm Spark Connect server:
- ``ui``: what `make ui` runs, `dg dev` (webserver + daemon in one process tree, Dagster's
  storage in SQLite in the home);
- ``team``: what `make team` runs, `f1-pipeline team up` (PostgreSQL of the home's own, a
  gRPC code server, the webserver and the daemon as separate processes), on a home in a
  /tmp folder the ``postgres`` user reaches; stopped with `f1-pipeline team down`, always.
Both get the same environment (F1_DATA_ROOT, AWS_*, F1_SOURCE_QUEUE_URL, Dagster's batching
variables) and a fresh moto account, bucket and queue.

One deployment (and one warm server) per shape and sensor kind, ``runs`` measurements (median
and min-max printed, the shapes side by side with team/ui of the medians; the target is
team <= 1.2x ui) of:
(a) the first upload of the sample: from the last file's upload until
    ``results/_manifest.json`` lists all 7 seasons published;
(b) one changed 2024 result: from its upload until the manifest is rewritten (checked:
    ``stats_2024.json`` has a new version and no other season's file does).
Between measurements the bucket is emptied (every version of every object, ``source-data/``
first, so no sensor tick sees an upload without its cleaned layer) and the next upload is
made to differ (results.csv's rows after the first ten rotated: the same data, another
checksum; an identical re-upload would rightly be a no-op), so each (a) is a first publish
from an empty bucket. What it does not repeat: the season partitions stay registered in the
Dagster instance after the first measurement (the first (a) also registered them). The
shapes run one after the other, not interleaved: a load that changes in between (another
process on the machine) skews their ratio.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3

from f1_pipeline.cli.team import team_dir
from f1_pipeline.defs.instance import DAGSTER_ENV
from f1_pipeline_tests.e2e.dagster_dev import dagster_dev, free_port
from f1_pipeline_tests.postgres import shared_tmp

BUCKET = "f1-bench"
SEASONS = 7
MANIFEST = "results/_manifest.json"
CHANGED = (b"26505,1132,1,1,01:29.4", b"26505,1132,1,1,01:29.3")  # 2024 British GP winner
CLI = str(Path(sys.executable).with_name("f1-pipeline"))
REPO = Path(__file__).resolve().parents[1]
SHAPES = ("ui", "team")
DEPLOYMENTS = {"ui": "dg dev", "team": "f1-pipeline team up"}


def _versions(s3, prefix: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET, Prefix=prefix):
        for version in page.get("Versions", []):
            found.setdefault(version["Key"], []).append(version["VersionId"])
    return found


def _empty(s3, prefix: str = "") -> None:
    """Delete every version and delete marker under ``prefix``."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=BUCKET, Prefix=prefix):
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            s3.delete_object(Bucket=BUCKET, Key=entry["Key"], VersionId=entry["VersionId"])


def _wait(predicate: Callable[[], bool], what: str, log: Path, timeout: float = 600) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if predicate():
            return time.perf_counter()
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}; see {log}")


def _published(s3) -> int:
    try:
        body = s3.get_object(Bucket=BUCKET, Key=MANIFEST)["Body"].read()
    except s3.exceptions.NoSuchKey:
        return 0
    seasons = json.loads(body).get("seasons", {})
    return sum(1 for entry in seasons.values() if not entry.get("withdrawn"))


def _idle(log: Path) -> None:
    """Wait until no run is queued or in flight (Dagster's run storage)."""
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    busy = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
            DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]  # fmt: skip
    with DagsterInstance.get() as instance:
        _wait(lambda: not instance.get_run_records(filters=RunsFilter(statuses=busy), limit=1),
              "the runs to end", log)  # fmt: skip


def _reordered(data: bytes, by: int) -> bytes:
    """The same CSV with its rows after the first ten rotated by ``by`` (another checksum, the
    same data; the first rows, which the ingest previews, stay)."""
    lines = data.splitlines(keepends=True)
    head, rows = lines[:11], lines[11:]
    rows[-1] = rows[-1] if rows[-1].endswith(b"\n") else rows[-1] + b"\n"
    by %= len(rows)
    return b"".join(head + rows[by:] + rows[:by])


def _measure(s3, races: bytes, results: bytes, log: Path) -> tuple[float, float, list[str]]:
    """(a) and (b) once, from an empty bucket; the seconds, and the other seasons' files (b)
    rewrote (none expected)."""
    s3.put_object(Bucket=BUCKET, Key="source-data/races.csv", Body=races)
    s3.put_object(Bucket=BUCKET, Key="source-data/results.csv", Body=results)
    start = time.perf_counter()
    first = _wait(lambda: _published(s3) >= SEASONS, "the first upload's stats", log) - start
    _idle(log)
    before = _versions(s3, "results/")
    time.sleep(3)  # every sensor has seen the published state
    s3.put_object(Bucket=BUCKET, Key="source-data/results.csv", Body=results.replace(*CHANGED))
    start = time.perf_counter()

    def manifest_rewritten() -> bool:
        return len(_versions(s3, MANIFEST).get(MANIFEST, [])) > len(before[MANIFEST])

    changed = _wait(manifest_rewritten, "the manifest rewritten", log) - start
    _idle(log)
    time.sleep(5)  # a further run (wrong) would have been requested by now
    _idle(log)
    after = _versions(s3, "results/")
    key = "results/stats_2024.json"
    if len(after[key]) <= len(before[key]):
        raise SystemExit(f"the manifest was rewritten but {key} was not; see {log}")
    others = sorted(k for k in after if "2024" not in k and k != MANIFEST
                    and len(after[k]) != len(before.get(k, [])))  # fmt: skip
    return first, changed, others


def _queue(s3) -> str:
    """An SQS queue receiving the bucket's source-data/ upload events; its URL."""
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="f1-uploads")["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    rule = {"Name": "prefix", "Value": "source-data/"}
    s3.put_bucket_notification_configuration(
        Bucket=BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": attributes["Attributes"]["QueueArn"],
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [rule]}},
                }
            ]
        },
    )
    return url


def _spread(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f}s ({min(values):.1f}-{max(values):.1f})"


def _cli(*args: str) -> str:
    """`f1-pipeline ...` with the current environment, from the repository; its output."""
    done = subprocess.run([CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"f1-pipeline {' '.join(args)} failed ({done.returncode}):\n"
                         f"{(done.stderr or done.stdout)[-3000:]}")  # fmt: skip
    return done.stdout


@contextmanager
def _ui(out: Path) -> Iterator[Path]:
    """What `make ui` runs (warm server, then `dg dev`) on ``out``/dagster_home; its log."""
    os.environ["DAGSTER_HOME"] = str(out / "dagster_home")
    log = out / "dagster-dev.log"
    try:
        _cli("spark", "start")
        with dagster_dev(log):
            yield log
    finally:
        subprocess.run([CLI, "spark", "stop"], capture_output=True)


@contextmanager
def _team(out: Path) -> Iterator[Path]:
    """What `make team` runs (`f1-pipeline team up`), on a home in a /tmp folder the postgres
    user reaches, this process's instance on its PostgreSQL; the daemon's log (its logs are
    copied to ``out``/team-logs at the end, the folder removed). `team down`, always."""
    root = shared_tmp("f1-bench-team-")
    home = root / "home"
    os.environ["DAGSTER_HOME"] = str(home)
    logs = out / "team-logs"
    try:
        _cli("team", "up", "--port", str(free_port()))
        for line in _cli("team", "env").splitlines():  # the DAGSTER_PG_* for _idle
            name, _, value = line.removeprefix("export ").partition("=")
            if name.startswith("DAGSTER_PG_"):
                os.environ[name] = shlex.split(value)[0] if value else ""
        yield logs / "daemon.log"
    finally:
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_PG_")}
            down = subprocess.run([CLI, "team", "down"], cwd=REPO, env=env, capture_output=True,
                                  text=True, timeout=300)  # fmt: skip
            if down.returncode != 0:
                print(f"f1-pipeline team down failed:\n{down.stderr[-2000:]}", file=sys.stderr)
        finally:
            if (team_dir(home) / "logs").is_dir():
                shutil.copytree(team_dir(home) / "logs", logs, dirs_exist_ok=True)
            shutil.rmtree(root, ignore_errors=True)


DEPLOY = {"ui": _ui, "team": _team}


def _shape(shape: str, out: Path, endpoint: str, sample: Path, queue: bool, runs: int) -> dict:
    """``runs`` measurements on one deployment of ``shape``, from a fresh moto account; the
    seconds of (a) and (b), and the other seasons' files (b) rewrote."""
    out.mkdir(parents=True, exist_ok=True)
    # moto keeps its state per process: start from an empty account each time.
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    s3 = boto3.client("s3")
    races, results = (sample / "races.csv").read_bytes(), (sample / "results.csv").read_bytes()
    firsts, changes, rewritten = [], [], set()
    saved = dict(os.environ)
    try:
        location = {"LocationConstraint": "eu-west-1"}
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration=location)
        s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        if queue:
            os.environ["F1_SOURCE_QUEUE_URL"] = _queue(s3)
        with DEPLOY[shape](out) as log:
            time.sleep(10)  # the daemon's first sensor ticks: nothing uploaded yet
            for i in range(runs):
                if i:
                    _empty(s3, "source-data/")
                    time.sleep(6)  # every sensor tick now sees no upload
                    _empty(s3)
                    time.sleep(2)
                first, changed, others = _measure(s3, races, _reordered(results, 397 * i), log)
                firsts.append(first)
                changes.append(changed)
                rewritten.update(others)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    print(f"  {shape} ({DEPLOYMENTS[shape]}) measured: (a) {_spread(firsts)}, "
          f"(b) {_spread(changes)}", flush=True)  # fmt: skip
    return {"first": firsts, "changed": changes, "rewritten": sorted(rewritten)}


def _table(measured: dict[str, dict], sensor: str, runs: int) -> None:
    """The shapes side by side, and team/ui of the medians when both were measured."""
    shapes = list(measured)
    ratio = "team" in measured and "ui" in measured
    print(f"\nupload -> published (warm Spark server, S3 on moto, {sensor}; {runs} measurements "
          f"per shape, each from an empty bucket; "
          f"{'; '.join(f'{s}: {DEPLOYMENTS[s]}' for s in shapes)}):")  # fmt: skip
    header = f"  {'':<46}" + "".join(f"{s:<27}" for s in shapes)
    print(header + ("team/ui (target <= 1.2)" if ratio else ""))
    rows = (("first", f"first upload of the sample -> {SEASONS} seasons"),
            ("changed", "one changed 2024 result -> republished"))  # fmt: skip
    for key, what in rows:
        line = f"  {what:<46}" + "".join(f"{_spread(measured[s][key]):<27}" for s in shapes)
        if ratio:
            medians = {s: statistics.median(measured[s][key]) for s in ("team", "ui")}
            line += f"{medians['team'] / medians['ui']:.2f}x"
        print(line)
    rewritten = "".join(f"{', '.join(measured[s]['rewritten']) or 'none':<27}" for s in shapes)
    what = "other seasons' files (b) rewrote"
    print(f"  {what:<46}{rewritten}", flush=True)


def bench_latency(
    out: Path, sample: Path, queue: bool = False, runs: int = 5, shapes: tuple[str, ...] = SHAPES
) -> None:
    from moto.server import ThreadedMotoServer

    unknown = [s for s in shapes if s not in DEPLOY]
    if unknown or not shapes:
        raise SystemExit(f"unknown deployment shape(s) {unknown}: use some of {', '.join(SHAPES)}")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    saved = dict(os.environ)
    # Another instance's (DAGSTER_PG_*) or settings (F1_*) the caller set: none of them here.
    for name in [n for n in os.environ if n.startswith(("F1_", "DAGSTER_PG_"))]:
        del os.environ[name]
    os.environ.update(
        AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_REGION="eu-west-1",
        AWS_DEFAULT_REGION="eu-west-1", AWS_ENDPOINT_URL=endpoint, AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null", F1_DATA_ROOT=f"s3://{BUCKET}",
        DAGSTER_DISABLE_TELEMETRY="1", **DAGSTER_ENV,  # as `make ui` and `team up` export
    )  # fmt: skip
    sensor = "queue sensor (SQS events)" if queue else "listing sensor"
    print(f"\nupload -> published, {sensor}, shapes {', '.join(shapes)}:", flush=True)
    try:
        measured = {shape: _shape(shape, out / shape, endpoint, sample, queue, runs)
                    for shape in shapes}  # fmt: skip
        _table(measured, sensor, runs)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()
