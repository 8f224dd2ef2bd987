"""Read a CSV file as text with line numbers, so errors can point at a line.

Spark's CSV reader drops line positions, so lines are read as text, numbered,
and split with ``from_csv``. Fields spanning lines (quoted newlines) are not
supported; Ergast exports have none.
"""

from __future__ import annotations

import csv

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.schema import SOURCE_LINE as LINE

# RFC 4180 quoting. The escape must not be a backslash, or Ergast's \N would
# lose its backslash.
CSV_OPTIONS = {"quote": '"', "escape": '"', "mode": "PERMISSIVE"}


def numbered_lines(spark: SparkSession, path: str) -> DataFrame:
    """``value`` (one text line, LF/CRLF stripped) and ``source_line`` (1-based line number).

    Numbering is exact across splits: a row's number is its position in its file block plus
    the number of lines in the blocks before it.
    """
    return numbered_lines_and_first(spark, path)[0]


def numbered_lines_and_first(spark: SparkSession, path: str) -> tuple[DataFrame, str | None]:
    """:func:`numbered_lines`, and the file's first line (None for an empty file), from the
    one Spark action that sizes the blocks."""
    text = spark.read.text(path).select(
        F.input_file_block_start().alias("_block"),
        F.monotonically_increasing_id().alias("_mid"),
        F.col("value"),
    )
    blocks = text.groupBy("_block").agg(
        F.count(F.lit(1)).alias("_n"),
        F.min("_mid").alias("_first_mid"),
        F.min_by("value", "_mid").alias("_first_value"),
    )
    offsets: list[tuple[int, int, int]] = []
    seen, first_line = 0, None
    for row in sorted(blocks.collect(), key=lambda r: r["_block"]):
        if not offsets:
            first_line = row["_first_value"]
        offsets.append((row["_block"], row["_first_mid"], seen))
        seen += row["_n"]
    schema = StructType(
        [
            StructField("_block", LongType()),
            StructField("_first_mid", LongType()),
            StructField("_offset", LongType()),
        ]
    )
    offsets_df = spark.createDataFrame(offsets, schema)
    numbered = text.join(F.broadcast(offsets_df), "_block").select(
        "value",
        (F.col("_mid") - F.col("_first_mid") + F.col("_offset") + 1).alias(LINE),
    )
    return numbered, first_line


def parse_header(line: str) -> list[str]:
    fields = next(csv.reader([line.lstrip("\ufeff")]), [])
    return [f.strip() for f in fields]


def read_csv(spark: SparkSession, path: str, source: str, required: tuple[str, ...]) -> DataFrame:
    """The ``required`` columns of a CSV as strings, plus ``source_line``.

    Columns are found by header name, in any order; extra columns are ignored.
    ``source`` names the file in error messages.
    """
    lines, first_line = numbered_lines_and_first(spark, path)
    if not first_line or not first_line.strip():
        raise InvalidInputError(source, "file is empty (no header line)", line=1)
    header = parse_header(first_line)
    missing = [c for c in required if c not in header]
    if missing:
        raise InvalidInputError(
            source,
            f"missing required column(s) {', '.join(missing)}; header has {', '.join(header)}",
            line=1,
        )
    # Positional names sidestep header names that are not valid identifiers.
    schema = StructType([StructField(f"c{i}", StringType()) for i in range(len(header))])
    parsed = lines.filter((F.col(LINE) > 1) & (F.trim("value") != "")).select(
        F.from_csv("value", schema.simpleString(), CSV_OPTIONS).alias("r"), LINE
    )
    return parsed.select(
        *[F.col(f"r.c{header.index(name)}").alias(name) for name in required], LINE
    )
