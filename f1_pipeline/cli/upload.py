"""``f1-pipeline upload``: put source CSVs under ``source-data/`` as the provider would."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from f1_pipeline.cli.context import Cli
from f1_pipeline.cli.errors import CommandError

if TYPE_CHECKING:
    from f1_pipeline.core.storage import ObjectInfo, Storage

# The schema and the header parser import pyspark: loaded by the command, not by every
# `f1-pipeline` start-up.


def detect_table(header: list[str]) -> str | None:
    """``races`` or ``results`` from a CSV header, by its required columns."""
    from f1_pipeline.core.transforms.schema import SPECS

    found = [name for name, spec in SPECS.items() if set(spec.source_columns) <= set(header)]
    return found[0] if len(found) == 1 else None


def upload_source(storage: Storage, path: Path) -> ObjectInfo:
    """Upload ``path`` to ``source-data/races.csv`` or ``source-data/results.csv``, after
    checking its header says which it is."""
    from f1_pipeline.core.storage import layout
    from f1_pipeline.core.transforms.reading import parse_header
    from f1_pipeline.core.transforms.schema import SPECS

    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first_line = handle.readline()
    except (OSError, UnicodeDecodeError) as err:
        raise CommandError(f"{path}: cannot read it as a UTF-8 CSV ({err})") from err
    header = parse_header(first_line.rstrip("\r\n"))
    table = detect_table(header)
    if table is None:
        needs = "; ".join(f"{n}: {', '.join(s.source_columns)}" for n, s in SPECS.items())
        raise CommandError(
            f"{path}: neither a races nor a results CSV (header: {', '.join(header) or 'empty'}). "
            f"Required columns — {needs}"
        )
    return storage.publish_file(path, layout.source_csv(table))


def add_parser(commands: argparse._SubParsersAction, parents: list) -> None:
    upload = commands.add_parser(
        "upload",
        parents=parents,
        help="put races.csv / results.csv under source-data/ (header checked first)",
    )
    upload.add_argument("files", nargs="+", type=Path, metavar="FILE")


def command(cli: Cli, args: argparse.Namespace) -> int:
    storage = cli.storage
    status = 0
    for path in args.files:
        try:
            info = upload_source(storage, path)
        except CommandError as err:
            print(f"f1-pipeline: upload refused: {err}", file=sys.stderr)
            status = 1
            continue
        version = f" (version {info.version_id})" if info.version_id else ""
        print(f"{path} -> {storage.uri(info.key)}{version}")
    return status
