"""The one place the environment is read and validated.

Everything else receives a :class:`Settings` (or the resources built from it);
nothing else in the package reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_ROOT = "data"
DEFAULT_SPARK_MASTER = "local[*]"
DEFAULT_DAGSTER_HOME = ".dagster"


class SettingsError(ValueError):
    """An environment variable holds a value the pipeline cannot use."""


@dataclass(frozen=True)
class Settings:
    """Validated runtime configuration.

    ``data_root`` is an absolute local directory holding ``source-data/``,
    ``cleaned/`` and ``results/``. ``dagster_home`` is the persistent Dagster
    instance the CLI records its runs in (the one ``make ui`` shows).
    """

    data_root: Path
    dagster_home: Path = field(default_factory=lambda: Path(DEFAULT_DAGSTER_HOME).resolve())
    spark_master: str = DEFAULT_SPARK_MASTER
    spark_conf: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        return cls(
            data_root=_parse_data_root(env.get("F1_DATA_ROOT", DEFAULT_DATA_ROOT)),
            dagster_home=_parse_dagster_home(env.get("DAGSTER_HOME") or DEFAULT_DAGSTER_HOME),
            spark_master=_parse_spark_master(env.get("F1_SPARK_MASTER", DEFAULT_SPARK_MASTER)),
        )


def _parse_data_root(value: str) -> Path:
    value = value.strip()
    if not value:
        raise SettingsError("F1_DATA_ROOT is set but empty; unset it to use ./data")
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise SettingsError(
            f"F1_DATA_ROOT={value!r}: storage scheme {scheme!r} is not supported by this "
            "version; use a local directory path"
        )
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"F1_DATA_ROOT={value!r} exists but is not a directory")
    return path


def _parse_dagster_home(value: str) -> Path:
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise SettingsError(f"DAGSTER_HOME={value!r} exists but is not a directory")
    return path


def _parse_spark_master(value: str) -> str:
    value = value.strip()
    if not value.startswith("local"):
        raise SettingsError(
            f"F1_SPARK_MASTER={value!r}: only local masters (local, local[N], local[*]) are "
            "supported by the embedded Spark resource"
        )
    return value
