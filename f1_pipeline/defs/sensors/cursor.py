"""What every sensor here shares: its settings (:data:`f1_sensor`) and cursors as small JSON
documents."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from functools import partial
from typing import Any, Self

from dagster import DefaultSensorStatus, sensor

from f1_pipeline.defs.constants import SENSOR_INTERVAL_SECONDS

# Every sensor runs from the start, at every round of the sensor daemon.
f1_sensor = partial(
    sensor,
    minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.RUNNING,
)


class JsonCursor:
    """A dataclass mixin: ``load`` a cursor (unknown keys from an older version are dropped,
    missing ones take their defaults) and ``dump`` it."""

    @classmethod
    def load(cls, text: str | None) -> Self:
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values: dict[str, Any] = json.loads(text) if text else {}
        return cls(**{k: v for k, v in values.items() if k in known})

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)  # type: ignore[call-overload]
