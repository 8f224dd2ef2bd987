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

LINE = "source_line"

# RFC 4180 quoting. The escape must not be a backslash, or Ergast's \N would
# lose its backslash.
CSV_OPTIONS = {"quote": '"', "escape": '"', "mode": "PERMISSIVE"}


def numbered_lines(spark: SparkSession, path: str) -> DataFrame:
    """``value`` (one text line, LF/CRLF stripped) and ``source_line`` (1-based line number).

    Numbering is exact across splits: a row's number is its position in its
    file block plus the number of lines in the blocks before it.
    """
    text = spark.read.text(path).select(
        F.input_file_block_start().alias("_block"),
        F.monotonically_increasing_id().alias("_mid"),
        F.col("value"),
    )
    blocks = text.groupBy("_block").agg(
        F.count(F.lit(1)).alias("_n"), F.min("_mid").alias("_first_mid")
    )
    offsets, seen = [], 0
    for row in sorted(blocks.collect(), key=lambda r: r["_block"]):
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
    return text.join(F.broadcast(offsets_df), "_block").select(
        "value",
        (F.col("_mid") - F.col("_first_mid") + F.col("_offset") + 1).alias(LINE),
    )


def parse_header(line: str) -> list[str]:
    fields = next(csv.reader([line.lstrip("\ufeff")]), [])
    return [f.strip() for f in fields]


def read_csv(spark: SparkSession, path: str, source: str, required: tuple[str, ...]) -> DataFrame:
    """The ``required`` columns of a CSV as strings, plus ``source_line``.

    Columns are found by header name, in any order; extra columns are ignored.
    ``source`` names the file in error messages.
    """
    lines = numbered_lines(spark, path)
    header_row = lines.filter(F.col(LINE) == 1).select("value").collect()
    if not header_row or not header_row[0]["value"].strip():
        raise InvalidInputError(source, "file is empty (no header line)", line=1)
    header = parse_header(header_row[0]["value"])
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
