"""What the catalog shows about each asset beyond its code: kinds, owners, where it lives,
its columns, a link to its code, and when the season stats are expected.

Applied to the asset definitions by :func:`f1_pipeline.definitions.build_definitions`, from
the resources: the kinds and URIs follow the mode and the data root.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from dagster import (
    AnchorBasedFilePathMapping,
    AssetsDefinition,
    AssetSpec,
    BetaWarning,
    MetadataValue,
    link_code_references_to_git,
    with_source_code_references,
)
from pydantic import Field

import f1_pipeline
from f1_pipeline.core.contract import SEASON_TABLE_COLUMNS
from f1_pipeline.core.glue_catalog import TABLE_NAMES
from f1_pipeline.core.steps.ingest import CLEANED_RACES, CLEANED_RESULTS
from f1_pipeline.core.steps.metadata import column_schema
from f1_pipeline.core.steps.stats import SEASON_STATS
from f1_pipeline.core.storage import S3Root, layout
from f1_pipeline.core.transforms.schema import RACES, RESULTS
from f1_pipeline.defs.config import checked
from f1_pipeline.defs.constants import CATALOG_KEY, STEP_RUNNER_KEY, STORAGE_KEY
from f1_pipeline.defs.metadata import to_dagster

OWNERS = ["team:f1-data"]

# The freshness signal is the results_up_to_date check (defs/assets/checks.py): it goes red
# when the provider is late with a race's results. A cron freshness policy on the season
# stats would go red every week without a race (winter and summer breaks) once nothing
# republishes regardless.

_COLUMNS = {
    CLEANED_RACES: RACES.cleaned_columns,
    CLEANED_RESULTS: RESULTS.cleaned_columns,
    SEASON_STATS: SEASON_TABLE_COLUMNS,
}


def _locations(resources: Mapping[str, Any]) -> dict[str, tuple[set[str], str]]:
    """Per asset (user string): its kinds and where it is (a URI)."""
    store = resources[STORAGE_KEY].get()
    where = {"s3"} if isinstance(resources[STORAGE_KEY].root(), S3Root) else set()
    engine = {"glue", "spark"} if resources[STEP_RUNNER_KEY].mode == "glue" else {"spark"}
    return {
        "source_data/races": ({"csv", *where}, store.uri(layout.source_csv("races"))),
        "source_data/results": ({"csv", *where}, store.uri(layout.source_csv("results"))),
        CLEANED_RACES: ({"parquet", *engine, *where}, store.uri(layout.cleaned_parquet("races"))),
        CLEANED_RESULTS: (
            {"parquet", *engine, *where},
            store.uri(layout.cleaned_parquet("results")),
        ),
        SEASON_STATS: (
            {"json", "parquet", *engine, *where},
            store.uri(layout.stats_json("{year}")),
        ),
    }


def _describe(resources: Mapping[str, Any]) -> Callable[[AssetSpec], AssetSpec]:
    locations = _locations(resources)
    catalog = resources[CATALOG_KEY]

    def describe(spec: AssetSpec) -> AssetSpec:
        name = spec.key.to_user_string()
        kinds, uri = locations[name]
        metadata = {
            **spec.metadata,
            "dagster/uri": uri,
            # With a Glue Data Catalog, the real table (database.table) Athena queries.
            "dagster/table_name": (name in TABLE_NAMES and catalog.table_name(name))
            or name.replace("/", "."),
        }
        if name in _COLUMNS:
            metadata.update(to_dagster({"dagster/column_schema": column_schema(_COLUMNS[name])}))
        if name == SEASON_STATS:
            metadata["contract"] = MetadataValue.md(
                "`results/stats_{year}.json`: one element per race, sorted by round, with "
                "`Race Name`, `Race Round`, `Race Datetime`, `Race Winning driverId`, "
                "`Race Fastest Lap`."
            )
        return spec.replace_attributes(
            kinds={*spec.kinds, *kinds}, owners=OWNERS, metadata=metadata
        )

    return describe


def catalogued(
    assets: Sequence[AssetsDefinition | AssetSpec],
    resources: Mapping[str, Any],
    env: Mapping[str, str],
) -> list[AssetsDefinition | AssetSpec]:
    """``assets`` with their catalog signals and code references (linked to the repository
    when ``F1_CODE_REPOSITORY_URL`` is set, on ``F1_CODE_BRANCH``, default main; else local
    file references). External assets (the raw uploads' specs) get the same signals; they
    have no code to reference."""
    describe = _describe(resources)
    repository = (env.get("F1_CODE_REPOSITORY_URL") or "").strip()
    if repository:
        checked("F1_CODE_REPOSITORY_URL", repository, Annotated[str, Field(pattern=r"^https?://")])
    specs = [describe(a) for a in assets if isinstance(a, AssetSpec)]
    described = [a.map_asset_specs(describe) for a in assets if isinstance(a, AssetsDefinition)]
    with warnings.catch_warnings():
        # Source code references are a beta API: nothing for a user of the CLI to act on.
        warnings.simplefilter("ignore", BetaWarning)
        referenced = with_source_code_references(described)
        if repository:
            referenced = link_code_references_to_git(
                referenced,
                git_url=repository.rstrip("/"),
                git_branch=(env.get("F1_CODE_BRANCH") or "").strip() or "main",
                file_path_mapping=AnchorBasedFilePathMapping(
                    local_file_anchor=Path(f1_pipeline.__file__),
                    file_anchor_path_in_repository="f1_pipeline/__init__.py",
                ),
            )
    return [*specs, *(a for a in referenced if isinstance(a, AssetsDefinition))]
