"""``f1-pipeline upload``: put source CSVs under ``source-data/`` as the provider would."""

from __future__ import annotations

from pathlib import Path

from f1_pipeline.storage import ObjectInfo, Storage, layout
from f1_pipeline.transforms.reading import parse_header
from f1_pipeline.transforms.schema import SPECS


class UploadRefused(ValueError):
    """The file is not a source CSV the pipeline knows."""


def detect_table(header: list[str]) -> str | None:
    """``races`` or ``results`` from a CSV header, by its required columns."""
    found = [name for name, spec in SPECS.items() if set(spec.source_columns) <= set(header)]
    return found[0] if len(found) == 1 else None


def upload_source(storage: Storage, path: Path) -> ObjectInfo:
    """Upload ``path`` to ``source-data/races.csv`` or ``source-data/results.csv``, after
    checking its header says which it is."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first_line = handle.readline()
    except (OSError, UnicodeDecodeError) as err:
        raise UploadRefused(f"{path}: cannot read it as a UTF-8 CSV ({err})") from err
    header = parse_header(first_line.rstrip("\r\n"))
    table = detect_table(header)
    if table is None:
        needs = "; ".join(f"{n}: {', '.join(s.source_columns)}" for n, s in SPECS.items())
        raise UploadRefused(
            f"{path}: neither a races nor a results CSV (header: {', '.join(header) or 'empty'}). "
            f"Required columns — {needs}"
        )
    return storage.publish_file(path, layout.source_csv(table))
