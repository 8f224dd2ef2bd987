"""``f1-pipeline glue deploy``: ship the entry script and the project wheel to
``scripts/`` and create or update the Glue job to run them (idempotent).

Deploy owns the job (its script, wheel, arguments, sizing, concurrency and queuing); the
CloudFormation stack owns what the job runs with (role, log group, bucket, policies) and
sets nothing of the job's, so no value has two owners."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from importlib.resources import files
from pathlib import Path
from typing import Any

from f1_pipeline.core.code_version import wheel_code_versions
from f1_pipeline.core.storage import layout
from f1_pipeline.core.storage.s3 import S3Storage


def entry_script() -> bytes:
    """The job's script: ``glue_entry.py`` beside this module, shipped as package data."""
    return (files("f1_pipeline.glue") / "glue_entry.py").read_bytes()


# A new job: Glue 5 (Spark 3.5, Python 3.11), the smallest worker, two of them. Three
# concurrent runs: more than the Dagster instance runs Glue steps at once (one ingest and one
# season stats step: the pools' limits), with room for a stray one; Glue's job-run queuing
# takes any beyond, so a start never fails for want of a slot.
NEW_JOB_DEFAULTS: Mapping[str, Any] = {
    "GlueVersion": "5.0",
    "WorkerType": "G.1X",
    "NumberOfWorkers": 2,
    "Timeout": 30,
    "MaxRetries": 0,
    "ExecutionProperty": {"MaxConcurrentRuns": 3},
    "JobRunQueuingEnabled": True,
}
# JobUpdate replaces the whole definition: every field get_job returns that UpdateJob accepts
# is carried over as is.
_UPDATABLE = (
    "Description", "LogUri", "Role", "ExecutionProperty", "Command", "DefaultArguments",
    "NonOverridableArguments", "Connections", "MaxRetries", "Timeout", "WorkerType",
    "NumberOfWorkers", "SecurityConfiguration", "NotificationProperty", "GlueVersion",
    "ExecutionClass", "MaxCapacity", "JobMode", "JobRunQueuingEnabled",
)  # fmt: skip


class DeployError(RuntimeError):
    """Deployment cannot proceed; the message says what is missing."""


@dataclass
class Deployment:
    job_name: str
    data_root: str
    job: dict[str, Any]
    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    action: str = "unchanged"  # created | updated | unchanged


def project_root() -> Path | None:
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


@contextmanager
def built_wheel() -> Iterator[Path]:
    """Build this project's wheel (no dependencies: Glue provides Spark, pyarrow, boto3)
    from a clean copy of the sources, so nothing stale from an earlier build gets in."""
    root = project_root()
    if root is None:
        raise DeployError("no project checkout to build a wheel from; pass --wheel PATH")
    with tempfile.TemporaryDirectory(prefix="f1-wheel-") as tmp:
        source, out = Path(tmp) / "src", Path(tmp) / "dist"
        source.mkdir()
        for name in ("pyproject.toml", "setup.cfg", "README.md"):
            shutil.copyfile(root / name, source / name)
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(root / "f1_pipeline", source / "f1_pipeline", ignore=ignore)
        # Offline: the build tools are this package's own dependencies.
        pip = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index"]
        build = ["--no-build-isolation", "--wheel-dir", str(out), str(source)]
        subprocess.run([*pip, *build], check=True, capture_output=True)
        wheels = sorted(out.glob("f1_pipeline-*.whl"))
        if len(wheels) != 1:
            raise DeployError(f"expected one f1_pipeline wheel, found {wheels}")
        yield wheels[0]


def _put_if_changed(storage: S3Storage, key: str, data: bytes, done: Deployment) -> None:
    found = storage.find(key)  # an S3 ETag is the MD5 of a single-part upload's bytes
    same = (
        found is not None and found.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    )
    if not same:
        storage.write_bytes(key, data)
    (done.unchanged if same else done.uploaded).append(storage.uri(key))


# Tags on the job (the stack tags what it makes the same way).
JOB_TAGS = {"project": "f1-pipeline"}


def job_log_group(job_name: str) -> str:
    """The job's continuous-log group: the stack creates it (with its retention) under this
    name, derived from the job name alone, so nothing is kept in sync by hand."""
    return f"/aws-glue/f1-pipeline/{job_name}"


# The job argument carrying the code versions of the deployed wheel (see
# f1_pipeline.core.code_version): what the Dagster side compares published seasons with.
CODE_VERSIONS_ARG = "--f1-code-versions"


def job_arguments(
    storage: S3Storage, wheel_name: str, job_name: str, code: dict[str, str] | None = None
) -> dict[str, str]:
    """The job arguments deploy owns (the stack sets none); any others on the job are kept."""
    wheel = storage.uri(layout.glue_wheel(wheel_name))
    return {
        "--job-language": "python",
        "--additional-python-modules": f"{wheel},dagster-pipes=={version('dagster-pipes')}",
        # Our wheel's own requirements (pyspark, dagster...) must not replace Glue's.
        "--python-modules-installer-option": "--no-deps",
        # Observability: job metrics, the Spark UI's event logs, continuous logs.
        "--enable-metrics": "true",
        "--enable-observability-metrics": "true",
        "--enable-spark-ui": "true",
        "--spark-event-logs-path": storage.uri(layout.SPARK_UI_PREFIX),
        "--enable-continuous-cloudwatch-log": "true",
        "--continuous-log-logGroup": job_log_group(job_name),
        **({CODE_VERSIONS_ARG: json.dumps(code, sort_keys=True)} if code else {}),
    }


def _get_job(glue: Any, name: str) -> dict[str, Any] | None:
    try:
        return glue.get_job(JobName=name)["Job"]
    except glue.exceptions.EntityNotFoundException:
        return None


def deploy(
    glue: Any, storage: S3Storage, job_name: str, wheel: Path, role_arn: str | None = None
) -> Deployment:
    """Upload the entry script and ``wheel`` (skipped when the same bytes are there), then
    point the job at them: create it (needs ``role_arn``), update it if its script or
    arguments differ, or leave it as it is."""
    existing = _get_job(glue, job_name)
    if existing is None and not role_arn:
        raise DeployError(
            f"Glue job {job_name!r} does not exist; pass --role-arn to create it (the "
            "stack's GlueJobRoleArn output, infra/template.yaml)"
        )
    done = Deployment(job_name, storage.uri(""), {})
    _put_if_changed(storage, layout.glue_entry_script(), entry_script(), done)
    _put_if_changed(storage, layout.glue_wheel(wheel.name), wheel.read_bytes(), done)
    script = storage.uri(layout.glue_entry_script())
    command = {"Name": "glueetl", "PythonVersion": "3", "ScriptLocation": script}
    arguments = job_arguments(storage, wheel.name, job_name, wheel_code_versions(wheel))
    if existing is None:
        glue.create_job(
            Name=job_name, Role=role_arn, Command=command, DefaultArguments=arguments,
            Description="f1-pipeline cleaned and season-stats steps (Dagster Pipes)",
            Tags=JOB_TAGS, **NEW_JOB_DEFAULTS,
        )  # fmt: skip
        done.action = "created"
    else:
        current_args = existing.get("DefaultArguments", {})
        wanted_args = {**current_args, **arguments}
        wanted_command = {**existing.get("Command", {}), **command}
        if wanted_args != current_args or wanted_command != existing.get("Command"):
            update = {k: existing[k] for k in _UPDATABLE if k in existing}
            if "MaxCapacity" in update and "WorkerType" in update:
                del update["MaxCapacity"]  # derived from the workers; both are refused
            update.update(Command=wanted_command, DefaultArguments=wanted_args)
            glue.update_job(JobName=job_name, JobUpdate=update)
            done.action = "updated"
    done.job = _get_job(glue, job_name) or {}
    return done


def describe(done: Deployment) -> list[str]:
    job, args = done.job, done.job.get("DefaultArguments", {})
    return [
        f"Glue job {done.job_name}: {done.action}",
        *(f"  uploaded  {uri}" for uri in done.uploaded),
        *(f"  unchanged {uri}" for uri in done.unchanged),
        f"  role            {job.get('Role')}",
        f"  glue version    {job.get('GlueVersion')}",
        f"  workers         {job.get('NumberOfWorkers')} x {job.get('WorkerType')}",
        f"  timeout         {job.get('Timeout')} min",
        f"  max concurrent  {job.get('ExecutionProperty', {}).get('MaxConcurrentRuns')}",
        f"  script          {job.get('Command', {}).get('ScriptLocation')}",
        f"  python modules  {args.get('--additional-python-modules')}",
        f"  use it with     F1_SPARK_MODE=glue F1_GLUE_JOB_NAME={done.job_name} "
        f"F1_DATA_ROOT={done.data_root}",
    ]
