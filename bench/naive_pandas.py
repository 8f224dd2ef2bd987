"""The naive pandas script, as a command (timed whole, Python start and imports included).

    python bench/naive_pandas.py RACES_CSV RESULTS_CSV OUT_DIR

It is ``f1_pipeline_tests/reference_pandas.py``: read both CSVs, keep the winners, merge,
write one ``stats_{year}.json`` per season.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from f1_pipeline_tests.reference_pandas import write_stats

if __name__ == "__main__":
    races, results, out = (Path(arg) for arg in sys.argv[1:4])
    print(f"{write_stats(races, results, out)} seasons written to {out}")
