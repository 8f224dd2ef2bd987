#!/bin/sh
# The code location container: the warm Spark engine (a Spark Connect server on this
# container's loopback, token-protected), then the gRPC code server. The webserver and the
# daemon launch runs through the code server (DefaultRunLauncher), so every run executes
# here, beside the engine, and connects to it in about a second. If the engine ever dies,
# runs start a private Spark server of their own (slower, never wrong).
set -eu
f1-pipeline spark start --port 15002
exec dagster code-server start -h 0.0.0.0 -p 4000 -m f1_pipeline.definitions \
    --location-name f1_pipeline
