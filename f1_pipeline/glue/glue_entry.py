"""f1-pipeline's AWS Glue job entry point, uploaded as is to scripts/glue_entry.py by
`f1-pipeline glue deploy`.

The code is in the f1_pipeline wheel (--additional-python-modules)."""

from f1_pipeline.glue.entry import main

main()
