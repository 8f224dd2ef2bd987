"""Read a CSV file as text with line numbers, so errors can point at a line.

Spark's CSV reader drops line positions, so lines are read as text and split with
``from_csv``. A row's line number is its position in its file block (Spark split) plus the
lines of the blocks before it: the per-block counts come from the one aggregate that also
validates the rows (see :mod:`f1_pipeline.core.transforms.cleaning`), so numbering costs no
Spark action of its own. Fields spanning lines (quoted newlines) are not supported; Ergast
exports have none.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType

from f1_pipeline.core.transforms.errors import InvalidInputError
from f1_pipeline.core.transforms.schema import SOURCE_LINE as LINE

# RFC 4180 quoting. The escape must not be a backslash, or Ergast's \N would
# lose its backslash.
CSV_OPTIONS = {"quote": '"', "escape": '"', "mode": "PERMISSIVE"}

# Where a text row is (its block's start, its row id) and whether it is data: the columns a
# row carries until it gets its line number.
BLOCK, ROW_ID, SKIP, HEADER = "_block", "_row_id", "_skip", "_header"
POSITION = (BLOCK, ROW_ID, SKIP, HEADER)


def text_rows(spark: SparkSession, path: str) -> DataFrame:
    """``value`` (one text line, LF/CRLF stripped) with its block and row id. No action."""
    return spark.read.text(path).select(
        F.input_file_block_start().alias(BLOCK),
        F.monotonically_increasing_id().alias(ROW_ID),
        F.col("value"),
    )


def block_stats(df: DataFrame) -> list[Any]:
    """The aggregate expressions giving each block's row count and first row id."""
    return [F.count(F.lit(1)).alias("_n"), F.min(ROW_ID).alias("_first")]


@dataclass(frozen=True)
class Blocks:
    """Each block's first row id and the lines in the blocks before it, in file order."""

    offsets: tuple[tuple[int, int, int], ...]  # (block, first row id, lines before)

    @classmethod
    def of(cls, rows: Iterable[Mapping[str, Any]]) -> Blocks:
        """From per-block rows holding ``_block``, ``_n`` and ``_first``."""
        offsets, seen = [], 0
        for row in sorted(rows, key=lambda r: r[BLOCK]):
            offsets.append((row[BLOCK], row["_first"], seen))
            seen += row["_n"]
        return cls(tuple(offsets))

    def line(self, block: int, row_id: int) -> int:
        for start, first, before in self.offsets:
            if start == block:
                return before + (row_id - first) + 1
        raise KeyError(block)

    def numbered(self, df: DataFrame) -> DataFrame:
        """``df`` with ``source_line`` in place of its position columns: one expression over
        the few block offsets (no join, no action)."""
        line = F.lit(None).cast(LongType())
        for start, first, before in self.offsets:
            here = F.col(ROW_ID) - F.lit(first) + F.lit(before + 1)
            line = F.when(F.col(BLOCK) == F.lit(start), here).otherwise(line)
        keep = [c for c in df.columns if c not in POSITION]
        return df.select(*keep, line.alias(LINE))


def parse_header(line: str) -> list[str]:
    fields = next(csv.reader([line.lstrip("\ufeff")]), [])
    return [f.strip() for f in fields]


def first_line(spark: SparkSession, path: str) -> str | None:
    """The file's first line, read by Spark (one action; the pipeline has it from the
    encoding check instead)."""
    text = text_rows(spark, path)
    row = text.agg(F.min_by("value", F.struct(BLOCK, ROW_ID)).alias("v")).collect()[0]
    return row["v"]


def read_csv(
    spark: SparkSession,
    path: str,
    source: str,
    required: tuple[str, ...],
    header: str | None = None,
) -> DataFrame:
    """The ``required`` columns of a CSV as strings, with each row's position (block, row
    id) and whether it is the header or blank (``_skip``). ``header``: the file's first line
    as text (read here when not given). Columns are found by header name, in any order;
    extra columns are ignored. ``source`` names the file in error messages."""
    if header is None:
        header = first_line(spark, path)
    if not header or not header.strip():
        raise InvalidInputError(source, "file is empty (no header line)", line=1)
    names = parse_header(header)
    missing = [c for c in required if c not in names]
    if missing:
        raise InvalidInputError(
            source,
            f"missing required column(s) {', '.join(missing)}; header has {', '.join(names)}",
            line=1,
        )
    # Positional names sidestep header names that are not valid identifiers.
    schema = StructType([StructField(f"c{i}", StringType()) for i in range(len(names))])
    # Compared without a byte-order mark, whether Spark's text reader keeps it or not.
    bare = F.regexp_replace("value", "^\ufeff", "")
    is_header = bare == F.lit(header.lstrip("\ufeff"))
    rows = text_rows(spark, path).select(
        BLOCK,
        ROW_ID,
        (is_header | (F.trim("value") == "")).alias(SKIP),
        is_header.alias(HEADER),
        F.from_csv("value", schema.simpleString(), CSV_OPTIONS).alias("r"),
    )
    return rows.select(
        *[F.col(f"r.c{names.index(name)}").alias(name) for name in required], *POSITION
    )
