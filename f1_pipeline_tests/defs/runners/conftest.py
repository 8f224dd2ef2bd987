# The Glue stand-in and its job, shared with the Glue-mode tests.
from f1_pipeline_tests.glue.conftest import (  # noqa: F401
    glue_api,
    glue_job,
    local_glue,
    project_wheel,
    s3_storage,
    seconds_per_minute,
)
