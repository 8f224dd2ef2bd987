"""Pure PySpark transforms: Spark DataFrames in, Spark DataFrames out.

This package imports pyspark and the standard library only, so the same code
runs under Dagster on a local session and inside an AWS Glue job.
"""
