"""Sensor cursors as small JSON documents."""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any, Self


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
