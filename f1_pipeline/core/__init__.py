"""What the AWS Glue job ships and runs: pure transforms, the steps, storage, the output
contract and lineage. Nothing below imports Dagster, ``f1_pipeline.defs`` or
``f1_pipeline.cli`` (`make lint` checks it), so the same code runs in a Dagster run and in the
Glue job, on Spark 4 locally and Spark 3.5 on Glue."""
