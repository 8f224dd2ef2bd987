"""The cleaned layer's blocking check specs; the checks themselves are in
:mod:`f1_pipeline.core.steps.checks` and run before anything is published."""

from __future__ import annotations

from dagster import AssetCheckSpec, AssetKey


def blocking_check(asset_key: AssetKey, name: str, description: str) -> AssetCheckSpec:
    return AssetCheckSpec(name, asset=asset_key, blocking=True, description=description)
