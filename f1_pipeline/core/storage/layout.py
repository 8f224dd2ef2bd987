"""Every storage key the pipeline uses is built here, and only here.

Keys are relative to the storage root and use ``/`` whatever the backend.
"""

from __future__ import annotations

SOURCE_PREFIX = "source-data/"
CLEANED_PREFIX = "cleaned/"
RESULTS_PREFIX = "results/"

SOURCE_TABLES = ("races", "results")


def source_csv(table: str) -> str:
    """``source-data/races.csv`` or ``source-data/results.csv``."""
    if table not in SOURCE_TABLES:
        raise ValueError(f"unknown source table {table!r}")
    return f"{SOURCE_PREFIX}{table}.csv"


def cleaned_table_prefix(table: str) -> str:
    """The folder of cleaned table ``table``: its Parquet file and nothing else, so that a
    catalog table (Glue, DuckDB) can point at it."""
    if table not in SOURCE_TABLES:
        raise ValueError(f"unknown cleaned table {table!r}")
    return f"{CLEANED_PREFIX}{table}/"


def cleaned_parquet(table: str) -> str:
    return f"{cleaned_table_prefix(table)}{table}.parquet"


SEASON_TABLE_PREFIX = f"{RESULTS_PREFIX}season_stats/"
SEASON_PARTITION = "season"  # Hive-style: season=2024/ (the files do not repeat it)


def stats_json(season: int | str) -> str:
    return f"{RESULTS_PREFIX}stats_{season}.json"


def stats_schema() -> str:
    """The contract's JSON Schema: beside the files, under no ``stats_*.json`` name."""
    return f"{RESULTS_PREFIX}stats.schema.json"


def stats_parquet(season: int | str) -> str:
    return f"{SEASON_TABLE_PREFIX}{SEASON_PARTITION}={season}/season_stats.parquet"


def cleaned_lineage(table: str) -> str:
    """Which source object version ``cleaned/{table}.parquet`` was built from."""
    return f"{CLEANED_PREFIX}{table}.lineage.json"


def season_fingerprints() -> str:
    """Per-season content fingerprints of the cleaned layer, with its source versions."""
    return f"{CLEANED_PREFIX}_season_fingerprints.json"


def manifest() -> str:
    """What each published season was computed from (fingerprint, source versions, run)."""
    return f"{RESULTS_PREFIX}_manifest.json"


def hold_record(upload: str) -> str:
    """What held upload ``upload`` would have removed (see :mod:`f1_pipeline.core.holds`)."""
    return f"{CLEANED_PREFIX}_holds/{_token(upload)}.json"


def acceptance_record(upload: str) -> str:
    """Who accepted held upload ``upload``, when and from where."""
    return f"{CLEANED_PREFIX}_accepted/{_token(upload)}.json"


# Withdrawn files on a local root are moved here, never unlinked: outside every table's
# folder, so no reader or query picks them up. (A versioned bucket keeps them as versions
# behind a delete marker instead.)
ARCHIVE_PREFIX = "archive/"


def archived(key: str, stamp: str) -> str:
    """Where ``key`` is kept once withdrawn by the run or upload named ``stamp``."""
    return f"{ARCHIVE_PREFIX}{_token(stamp)}/{key}"


def _token(value: str) -> str:
    if not value or "/" in value or value.startswith("."):
        raise ValueError(f"bad key component {value!r}")
    return value


STAGING_PREFIX = f"{CLEANED_PREFIX}_staging/"
SCRIPTS_PREFIX = "scripts/"
PIPES_PREFIX = "pipes/"
SPARK_UI_PREFIX = "sparkui/"  # the Glue job runs' Spark event logs (the stack expires them)
# Deleted after use; the bucket's lifecycle rules expire any leftovers within a day.
SCRATCH_PREFIXES = (PIPES_PREFIX, STAGING_PREFIX)


def staging_prefix(token: str) -> str:
    """Run-private scratch space for Spark reading and writing the root directly (Glue):
    pinned copies of the inputs and not-yet-published outputs. Removed after each step."""
    return f"{STAGING_PREFIX}{_token(token)}/"


# Hadoop's S3 filesystems on EMR and Glue (EMRFS) mark a "directory" they create with an
# empty object named after it plus this suffix, beside the directory, not inside it.
FOLDER_MARKER_SUFFIX = "_$folder$"


def folder_markers(prefix: str, within: str = STAGING_PREFIX) -> list[str]:
    """The folder-marker keys Spark may have left for ``prefix`` (a directory, ending in
    ``/``) and for each of its parents below ``within``."""
    if not prefix.startswith(within) or not prefix.endswith("/"):
        raise ValueError(f"{prefix!r} is not a directory under {within!r}")
    parts = prefix[len(within) :].rstrip("/").split("/")
    return [f"{within}{'/'.join(parts[: i + 1])}{FOLDER_MARKER_SUFFIX}" for i in range(len(parts))]


def glue_entry_script() -> str:
    return f"{SCRIPTS_PREFIX}glue_entry.py"


def glue_wheel(filename: str) -> str:
    return f"{SCRIPTS_PREFIX}{filename}"
