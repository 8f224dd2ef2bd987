"""``f1-pipeline``: run the pipeline through Dagster from a terminal."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from f1_pipeline.settings import S3Root, Settings, SettingsError


def parse_seasons(text: str) -> list[int]:
    """``2023,2024``, ``2018-2024`` or a mix: ``2010,2018-2020``."""
    seasons: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.split(","))):
            if "-" in part:
                first, last = (int(x) for x in part.split("-", 1))
                if first > last:
                    raise ValueError
                seasons.update(range(first, last + 1))
            else:
                seasons.add(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid seasons {text!r}: use a list (2023,2024) or a range (2018-2024)"
        ) from None
    if not seasons:
        raise argparse.ArgumentTypeError("no seasons given")
    return sorted(seasons)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="f1-pipeline", description="Formula 1 per-season stats on Dagster and PySpark."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run", help="ingest the source CSVs and publish per-season stats (all seasons by default)"
    )
    run.add_argument(
        "--seasons", type=parse_seasons, help="only these seasons, e.g. 2023,2024 or 2018-2024"
    )
    commands.add_parser(
        "bootstrap",
        help="create or update the S3 bucket of F1_DATA_ROOT: versioning, encryption, "
        "public access blocked, TLS-only policy (idempotent)",
    )
    backfill = commands.add_parser(
        "backfill",
        help="backfill seasons through the running Dagster (`make ui`): one backfill, one run",
    )
    backfill.add_argument(
        "--seasons", type=parse_seasons, required=True, help="e.g. 2018-2024 or 2023,2024"
    )
    backfill.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait")
    upload = commands.add_parser(
        "upload", help="put races.csv / results.csv under source-data/ (header checked first)"
    )
    upload.add_argument("files", nargs="+", type=Path, metavar="FILE")
    glue = commands.add_parser("glue", help="the AWS Glue job that runs the Spark steps")
    glue_commands = glue.add_subparsers(dest="glue_command", required=True)
    deploy = glue_commands.add_parser(
        "deploy",
        help="upload the entry script and the project wheel to scripts/ of F1_DATA_ROOT's "
        "bucket and create or update the Glue job (idempotent)",
    )
    deploy.add_argument("--job-name", help="default: F1_GLUE_JOB_NAME")
    deploy.add_argument("--wheel", type=Path, help="a built f1_pipeline wheel (default: build)")
    deploy.add_argument("--role-arn", help="the job's IAM role, to create a job that is missing")
    return parser


def _bootstrap(settings: Settings) -> int:
    from f1_pipeline.bucket import bootstrap_bucket, tls_policy_applies
    from f1_pipeline.resources import s3_resource

    root = settings.data_root
    if not isinstance(root, S3Root):
        print(
            f"f1-pipeline: bootstrap needs F1_DATA_ROOT=s3://bucket[/prefix]; it is {root}",
            file=sys.stderr,
        )
        return 2
    tls_only = tls_policy_applies(settings.aws.endpoint_url)
    if not tls_only:
        print(
            f"warning: AWS_ENDPOINT_URL={settings.aws.endpoint_url} is plain HTTP; the "
            "TLS-only bucket policy is not applied (it would deny every request made through "
            "this endpoint). It is applied on AWS and HTTPS endpoints.",
            file=sys.stderr,
        )
    client = s3_resource(settings).get_client()
    changes = bootstrap_bucket(
        client, root.bucket, settings.aws.region, tls_only=tls_only, prefix=root.prefix
    )
    for change in changes:
        print(f"s3://{root.bucket}: {change}")
    if not changes:
        print(f"s3://{root.bucket}: already compliant, nothing changed")
    return 0


def _glue_deploy(settings: Settings, args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    from f1_pipeline.glue.deploy import DeployError, built_wheel, deploy, describe
    from f1_pipeline.resources import build_storage, glue_client
    from f1_pipeline.storage.s3 import S3Storage

    storage = build_storage(settings)
    job_name = args.job_name or settings.glue_job_name
    if not isinstance(storage, S3Storage) or not job_name:
        print(
            "f1-pipeline: glue deploy needs F1_DATA_ROOT=s3://bucket[/prefix] and a job name "
            "(--job-name or F1_GLUE_JOB_NAME)",
            file=sys.stderr,
        )
        return 2
    try:
        with nullcontext(args.wheel) if args.wheel else built_wheel() as wheel:
            done = deploy(glue_client(settings), storage, job_name, wheel, args.role_arn)
    except DeployError as err:
        print(f"f1-pipeline: glue deploy: {err}", file=sys.stderr)
        return 1
    print("\n".join(describe(done)))
    return 0


def _backfill(settings: Settings, seasons: list[int], timeout: float) -> int:
    from f1_pipeline import webserver

    url, wanted = settings.dagster_url, [str(s) for s in seasons]
    available = webserver.season_partitions(url)
    unknown = [s for s in wanted if s not in available]
    if unknown:
        print(
            f"f1-pipeline: season(s) {', '.join(unknown)} are not partitions yet (available: "
            f"{', '.join(available) or 'none'}); upload or ingest their data first",
            file=sys.stderr,
        )
        return 1
    started = time.monotonic()
    tags = {"f1/lane": "seasons", "f1/trigger": "cli-backfill"}
    backfill_id = webserver.launch_season_backfill(url, wanted, tags)
    print(f"backfill {backfill_id}: {len(wanted)} season(s), one run — {url}/runs/b/{backfill_id}")
    published: set[str] = set()
    while True:
        progress = webserver.backfill_progress(url, backfill_id, wanted)
        for season in sorted(progress["materialized"] - published, key=int):
            print(f"  season {season}: published", flush=True)
        published |= progress["materialized"]
        if progress["status"] in webserver.TERMINAL:
            break
        if time.monotonic() - started > timeout:
            print(f"f1-pipeline: backfill {backfill_id} still running after {timeout:.0f}s",
                  file=sys.stderr)  # fmt: skip
            return 1
        time.sleep(2)
    runs = ", ".join(f"{r['runId']} {r['status']}" for r in progress["runs"])
    print(
        f"summary: backfill {backfill_id} {progress['status']}: {len(published)}/{len(wanted)} "
        f"season(s) published, runs: {runs or 'none'}, {time.monotonic() - started:.1f}s"
    )
    ok = progress["status"] in ("COMPLETED", "COMPLETED_SUCCESS") and published == set(wanted)
    return 0 if ok else 1


def _upload(settings: Settings, files: list[Path]) -> int:
    from f1_pipeline.resources import build_storage
    from f1_pipeline.upload import UploadRefused, upload_source

    storage = build_storage(settings)
    status = 0
    for path in files:
        try:
            info = upload_source(storage, path)
        except UploadRefused as err:
            print(f"f1-pipeline: upload refused: {err}", file=sys.stderr)
            status = 1
            continue
        version = f" (version {info.version_id})" if info.version_id else ""
        print(f"{path} -> {storage.uri(info.key)}{version}")
    return status


def _run(settings: Settings, seasons: list[int] | None) -> int:
    # Imported here so `--help` and argument errors stay fast.
    from f1_pipeline import launch
    from f1_pipeline.definitions import build_definitions
    from f1_pipeline.instance import open_instance

    started = time.monotonic()
    instance = open_instance(settings.dagster_home)
    defs = build_definitions(settings)
    print(f"data root: {settings.data_root}\ndagster home: {settings.dagster_home}")

    print("[1/2] ingest: raw + cleaned layers ...", flush=True)
    ingest = launch.ingest(defs, instance)
    available: list[int] = []
    for m in ingest.materialized:
        rows = m.metadata.get("dagster/row_count", "?")
        print(f"  {m.asset:<22} {rows:>8} rows")
        available = m.metadata.get("seasons", available)
    print(f"  done in {ingest.seconds:.1f}s (run {ingest.run_ids[0]})")

    targets = seasons or available
    print(f"[2/2] season stats: {len(targets)} season(s) in one Spark job ...", flush=True)
    stats = launch.publish_seasons(defs, instance, targets)
    # Every partition event of a run carries that run's metadata: count each run once.
    per_run = {m.run_id: m.metadata for m in stats.materialized}
    races = sum(meta["dagster/row_count"] for meta in per_run.values())
    files = sum(meta["file_count"] for meta in per_run.values())
    for meta in per_run.values():
        per_season = meta["races_per_season"]
        if isinstance(per_season, dict):
            for season, count in per_season.items():
                print(f"  season {season}: {count} races")
        else:
            print(f"  {meta['season_count']} seasons, {meta['dagster/row_count']} races")
    print(f"  done in {stats.seconds:.1f}s (run {', '.join(stats.run_ids)})")

    print(
        f"summary: {len(targets)} season(s) {targets[0]}..{targets[-1]}, {files} files "
        f"written under {str(settings.data_root).rstrip('/')}/results, {races} races, "
        f"{time.monotonic() - started:.1f}s"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "run":
            return _run(settings, args.seasons)
        if args.command == "bootstrap":
            return _bootstrap(settings)
        if args.command == "upload":
            return _upload(settings, args.files)
        if args.command == "glue":
            return _glue_deploy(settings, args)
        if args.command == "backfill":
            return _backfill(settings, args.seasons, args.timeout)
    except SettingsError as err:
        print(f"f1-pipeline: configuration error: {err}", file=sys.stderr)
        return 2
    except Exception as err:
        from f1_pipeline.launch import LaunchError
        from f1_pipeline.webserver import WebserverError

        if isinstance(err, WebserverError):
            print(f"f1-pipeline: {err}", file=sys.stderr)
            return 1
        if not isinstance(err, LaunchError):
            raise
        print(f"f1-pipeline: run failed:\n{err}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
