"""f1-pipeline: Formula 1 per-season stats on Dagster and PySpark."""
