"""The error raised for input the pipeline refuses."""

from __future__ import annotations


class InvalidInputError(ValueError):
    """Bad source data. The message names the file, and the line and column where known."""

    def __init__(
        self,
        source: str,
        problem: str,
        *,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        self.source = source
        self.problem = problem
        self.line = line
        self.column = column
        where = source
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {problem}")
