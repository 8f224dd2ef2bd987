"""The persistent Dagster instance used by the CLI and by ``make ui``."""

from __future__ import annotations

import os
from pathlib import Path

from dagster import DagsterInstance

from f1_pipeline.defs.instance.event_log import EVENT_BATCH_SIZE

TEMPLATE = Path(__file__).with_name("dagster.yaml")


def prepare_home(home: Path) -> Path:
    """Create ``home`` with our dagster.yaml unless the operator already provided one."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        text = TEMPLATE.read_text().replace("{dagster_home}", str(home.resolve()))
        config.write_text(text)
    return home


def open_instance(home: Path) -> DagsterInstance:
    """The instance at ``home``. DAGSTER_HOME is exported so that everything Dagster starts
    from this process (telemetry checks included) sees the same home."""
    prepare_home(home)
    os.environ["DAGSTER_HOME"] = str(home)
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE)
    return DagsterInstance.get()
