"""Code is part of lineage: a version for the code that shapes each layer's output.

A version is a digest of the source of the modules that decide what a layer publishes, so a
fix to the contract or a transform changes it with no constant to bump. The cleaned layer's
commit record carries the cleaning code's version and the manifest, per season, the stats
code's: a season computed by other code than the current one is stale and republished.

Computed from the modules this process imports: in a Glue job that is the deployed wheel,
which is what the job reports, not what the Dagster code location loaded.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from functools import cache
from importlib.util import find_spec
from pathlib import Path

# What shapes the cleaned tables and the commit record (typing, validation, the checks,
# the season fingerprints and summaries).
CLEANING_MODULES = (
    "f1_pipeline.core.transforms.reading",
    "f1_pipeline.core.transforms.cleaning",
    "f1_pipeline.core.transforms.schema",
    "f1_pipeline.core.transforms.quality",
    "f1_pipeline.core.transforms.fingerprints",
    "f1_pipeline.core.steps.encoding",
    "f1_pipeline.core.steps.checks",
    "f1_pipeline.core.steps.hold_check",
    "f1_pipeline.core.steps.ingest",
)
# What shapes stats_{year}.json and the Parquet season table.
STATS_MODULES = (
    "f1_pipeline.core.transforms.stats",
    "f1_pipeline.core.contract",
    "f1_pipeline.core.steps.stats",
)
LAYERS = {"cleaning": CLEANING_MODULES, "stats": STATS_MODULES}


def _source(module: str) -> bytes:
    spec = find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f"module {module} has no source to version")
    return Path(spec.origin).read_bytes()


def modules_version(modules: tuple[str, ...], source: Callable[[str], bytes] = _source) -> str:
    """A short digest of the modules' source, in the given order."""
    digest = hashlib.sha256()
    for module in modules:
        digest.update(module.encode() + b"\0" + source(module) + b"\0")
    return digest.hexdigest()[:16]


@cache
def code_versions() -> dict[str, str]:
    """``{"cleaning": ..., "stats": ...}`` for the code this process runs."""
    return {layer: modules_version(modules) for layer, modules in LAYERS.items()}


def wheel_code_versions(wheel: Path) -> dict[str, str]:
    """:func:`code_versions` of the code inside a built wheel (what a Glue job will run)."""
    with zipfile.ZipFile(wheel) as archive:

        def source(module: str) -> bytes:
            return archive.read(module.replace(".", "/") + ".py")

        return {layer: modules_version(modules, source) for layer, modules in LAYERS.items()}
