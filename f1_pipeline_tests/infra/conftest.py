# The wheel `glue deploy` ships, shared with the Glue tests (built once per session).
from f1_pipeline_tests.glue.conftest import project_wheel  # noqa: F401
