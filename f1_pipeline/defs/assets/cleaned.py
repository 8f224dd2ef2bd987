"""Cleaned layer: typed, validated races and results as Parquet under ``cleaned/``.

Both tables are one step, :func:`f1_pipeline.core.steps.ingest.ingest_step` (run by the
``step_runner`` resource, locally or as one Glue job run): the whole upload is validated,
and held if it would remove published data, before either table is replaced, so the cleaned
layer is never half old, half new. An upload it is already built from is not cleaned again.
"""

import json

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    multi_asset,
)

from f1_pipeline.core.code_version import code_versions
from f1_pipeline.core.history import restore
from f1_pipeline.core.steps.ingest import CHECKS
from f1_pipeline.core.steps.ingest import CLEANED_RACES as RACES_KEY
from f1_pipeline.core.steps.ingest import CLEANED_RESULTS as RESULTS_KEY
from f1_pipeline.defs.assets.checks import blocking_check
from f1_pipeline.defs.assets.raw import RAW_RACES, RAW_RESULTS
from f1_pipeline.defs.constants import (
    ACCEPT_TAG,
    CLEANED_GROUP,
    CLEANED_POOL,
    REQUESTED_BY_TAG,
    ROLLBACK_TAG,
    SOURCE_VERSIONS_TAG,
)
from f1_pipeline.defs.failures import failure_policy
from f1_pipeline.defs.partitions import register_seasons
from f1_pipeline.defs.resources import StepRunnerResource
from f1_pipeline.defs.retries import RETRY_POLICY

CLEANED_RACES = AssetKey.from_user_string(RACES_KEY)
CLEANED_RESULTS = AssetKey.from_user_string(RESULTS_KEY)
CODE_VERSION = code_versions()["cleaning"]


@multi_asset(
    name="cleaned_tables",
    specs=[
        AssetSpec(
            CLEANED_RACES,
            deps=[RAW_RACES],
            group_name=CLEANED_GROUP,
            code_version=CODE_VERSION,
            description="Typed, validated races (raceId, season, round, name, date, time), "
            "each row with its source line. Registers every season found as a partition of "
            "results/season_stats.",
        ),
        AssetSpec(
            CLEANED_RESULTS,
            deps=[RAW_RESULTS, CLEANED_RACES],
            group_name=CLEANED_GROUP,
            code_version=CODE_VERSION,
            description="Typed, validated results (resultId, raceId, driverId, position, "
            "fastest lap as in the source and in milliseconds). With it, per-season content "
            "fingerprints, so only the seasons an upload changed are republished.",
        ),
    ],
    check_specs=[blocking_check(AssetKey.from_user_string(a), n, d) for a, n, d in CHECKS],
    can_subset=False,
    pool=CLEANED_POOL,
    retry_policy=RETRY_POLICY,
)
def cleaned_tables(context: AssetExecutionContext, step_runner: StepRunnerResource):
    """The upload, validated as a whole, then both cleaned tables published together."""
    tags = context.run.tags
    params = {
        # The source versions the run was asked for (S3 VersionIds from the sensor), if any.
        "versions": json.loads(tags.get(SOURCE_VERSIONS_TAG, "{}")),
        "latest_season": step_runner.last_season(),
        "hold": step_runner.hold_policy().to_params(),
        "keep": step_runner.history_keep,
    }
    by = {"via": "dagster run", "run_id": context.run.run_id}
    if tags.get(REQUESTED_BY_TAG):
        by["requested_by"] = tags[REQUESTED_BY_TAG]
    if tags.get(ACCEPT_TAG):
        params["accept"] = {"upload": tags[ACCEPT_TAG].strip(), "by": {**by, "tag": ACCEPT_TAG}}
    if tags.get(ROLLBACK_TAG):
        # Here, with the runner's rights (a Glue job never writes the inputs): the upload's
        # kept files made current again, then ingested like any upload (checks, holds).
        upload, storage = tags[ROLLBACK_TAG].strip(), step_runner.storage.get()
        with failure_policy(context):
            restored = restore(storage, upload, {**by, "tag": ROLLBACK_TAG})
        context.log.info(f"upload {upload} made current again, as upload {restored}")
        params["versions"] = {}
    with failure_policy(context):
        run = step_runner.run(context, "ingest", params)
        yield from run.checks
        run.raise_error()
    _, added = register_seasons(context.instance, run.data["seasons"])
    if added:
        context.log.info(f"new season partitions: {added}")
    for key, metadata in run.materializations.items():
        if key == RACES_KEY:
            metadata = {**metadata, "new_season_partitions": added}
        yield MaterializeResult(asset_key=AssetKey.from_user_string(key), metadata=metadata)


assets = [cleaned_tables]
