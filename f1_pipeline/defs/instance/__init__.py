"""The persistent Dagster instance used by the CLI and by ``make ui``."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DagsterInstance

from f1_pipeline.defs.constants import POOL_LIMITS
from f1_pipeline.defs.instance.event_log import EVENT_BATCH_SIZE

TEMPLATE = Path(__file__).with_name("dagster.yaml")
# Dagster's storage, by F1_DAGSTER_STORAGE: where runs, events and schedules are kept.
STORAGES = ("sqlite", "postgres")


def render_template(home: Path, storage: str = "sqlite") -> str:
    """Our dagster.yaml for ``home`` with the chosen storage block."""
    if storage not in STORAGES:
        raise ValueError(f"unknown Dagster storage {storage!r}; use one of {', '.join(STORAGES)}")
    block = TEMPLATE.with_name(f"storage.{storage}.yaml").read_text().strip()
    text = TEMPLATE.read_text().replace("{storage}", block)
    return text.replace("{dagster_home}", str(home.resolve()))


def prepare_home(home: Path, storage: str = "sqlite") -> Path:
    """Create ``home`` with our dagster.yaml (``storage``: sqlite or postgres) unless the
    operator already provided one, and give its run pools their limits."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(render_template(home, storage))
    with DagsterInstance.from_config(str(home)) as instance:
        set_pool_limits(instance)
    return home


def set_pool_limits(instance: DagsterInstance) -> None:
    """Each pool's limit (``POOL_LIMITS``) unless one was set by hand (in the UI or with
    ``dagster instance concurrency set``): pools without one get the instance's default."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    chosen = {p.name for p in storage.get_pool_limits() if not p.from_default}
    for pool, limit in POOL_LIMITS.items():
        if pool not in chosen:
            storage.set_concurrency_slots(pool, limit)


def open_instance(home: Path, storage: str = "sqlite") -> DagsterInstance:
    """The instance at ``home``. DAGSTER_HOME is exported so that everything Dagster starts
    from this process (telemetry checks included) sees the same home."""
    prepare_home(home, storage)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    return DagsterInstance.get()
