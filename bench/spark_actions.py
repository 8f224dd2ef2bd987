"""Spark Connect round trips per step: the pipeline's two steps run directly (no Dagster), as
``f1_pipeline.core.warm_up`` and the golden test run them, over a warm server, with a
client whose gRPC channel counts its calls by method.

    python bench/spark_actions.py [--scales 1,full]

For each scale, on a fresh copy of its data: ``ingest``, then ``season_stats`` over every
season, each step's ExecutePlan calls (a query or command run on the server), AnalyzePlan
calls (a schema or plan asked for), other calls (Config, ReleaseExecute, ...) and seconds.
Alone it starts a warm server of its own (``f1-pipeline spark start``, a home under
bench/out) and stops it at the end; ``run_bench.py`` runs it in a child process on its own
server (``--url``, the token in ``SPARK_CONNECT_AUTHENTICATE_TOKEN``).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import grpc

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.scale import label, write_scale  # noqa: E402

CLI = str(Path(sys.executable).with_name("f1-pipeline"))


class CallCounter(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """Counts a channel's calls by method name (ExecutePlan, AnalyzePlan, Config, ...)."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def _count(self, details: grpc.ClientCallDetails) -> None:
        method = details.method
        name = method.decode() if isinstance(method, bytes) else method
        self.calls[name.rsplit("/", 1)[-1]] += 1

    def intercept_unary_unary(self, continuation, client_call_details, request):
        self._count(client_call_details)
        return continuation(client_call_details, request)

    intercept_unary_stream = intercept_unary_unary

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        self._count(client_call_details)
        return continuation(client_call_details, request_iterator)

    intercept_stream_stream = intercept_stream_unary


def counted_session(url: str, token: str):
    """A Connect session on ``url`` whose calls ``counter`` counts, with the pipeline's session
    settings (as a run applies them)."""
    from pyspark.sql.connect.client import DefaultChannelBuilder
    from pyspark.sql.connect.client.retries import DefaultPolicy
    from pyspark.sql.connect.session import SparkSession

    from f1_pipeline.core.spark import SQL_CONF

    # What pyspark's SparkSession.builder.remote(...).create() does: pyspark.sql.functions
    # build Connect expressions only in a process marked as a Connect client.
    os.environ["SPARK_CONNECT_MODE_ENABLED"] = "1"
    counter = CallCounter()
    builder = DefaultChannelBuilder(f"{url.rstrip('/')}/;token={token}")
    builder.add_interceptor(counter)
    session = SparkSession.builder.channelBuilder(builder).create()
    session.client.set_retry_policies([DefaultPolicy(max_retries=5, max_backoff=1000)])
    for key, value in SQL_CONF.items():
        session.conf.set(key, value)
    return session, counter


def count_steps(url: str, token: str, root: Path) -> list[tuple[str, Counter[str], float]]:
    """Run ingest then season_stats (every season) on ``root``; per step its calls, seconds."""
    from f1_pipeline.core.steps import StepContext, run_step
    from f1_pipeline.core.steps.io import LocalStagedIO
    from f1_pipeline.core.storage import LocalStorage

    session, counter = counted_session(url, token)
    storage = LocalStorage(root)
    log = logging.getLogger("bench.spark_actions")
    log.addHandler(logging.NullHandler())  # the steps' own lines stay out of the table
    log.propagate = False
    ctx = StepContext(storage, session, LocalStagedIO(storage), log, "bench", lambda c: None)
    counted = []
    try:
        params: dict = {"latest_season": 9999}  # the replicas run far past next year
        for step in ("ingest", "season_stats"):
            counter.calls.clear()
            start = time.perf_counter()
            result = run_step(step, ctx, params)
            counted.append((step, Counter(counter.calls), time.perf_counter() - start))
            params = {"seasons": list(result.data["seasons"])}  # every season in the data
    finally:
        session.client.close()
    return counted


def bench_actions(scales: list[str], out: Path, url: str, token: str) -> None:
    print("\nSpark Connect calls per step (the steps alone, warm server):")
    for scale in scales:
        root = out / label(scale)
        shutil.rmtree(root, ignore_errors=True)
        seasons, _, results = write_scale(scale, root / "source-data")
        print(f"  {label(scale)} ({seasons} seasons, {results} results):")
        print(f"    {'step':<13} {'ExecutePlan':>11} {'AnalyzePlan':>11} {'other':>6} {'s':>7}")
        for step, calls, seconds in count_steps(url, token, root):
            execute, analyze = calls["ExecutePlan"], calls["AnalyzePlan"]
            other = sum(calls.values()) - execute - analyze
            names = ", ".join(f"{n} {c}" for n, c in sorted(calls.items()) if "Plan" not in n)
            print(f"    {step:<13} {execute:>11} {analyze:>11} {other:>6} {seconds:>7.1f}"
                  f"  {f'({names})' if names else ''}")  # fmt: skip


def main() -> None:
    from f1_pipeline.core.spark import Engine

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,full")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "out" / "actions")
    parser.add_argument("--url", help="a running server's sc://localhost:PORT (token: env)")
    args = parser.parse_args()
    scales = [s for s in args.scales.split(",") if s]
    if args.url:
        bench_actions(scales, args.out, args.url, os.environ["SPARK_CONNECT_AUTHENTICATE_TOKEN"])
        return
    home = args.out / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("F1_")}
    env.update(DAGSTER_HOME=str(home), F1_LATEST_SEASON="9999", DAGSTER_DISABLE_TELEMETRY="1")
    subprocess.run([CLI, "spark", "start"], env=env, check=True, capture_output=True)
    try:
        server = Engine(home).warm()
        if server is None:
            raise SystemExit(f"no Spark Connect server running for {home}")
        bench_actions(scales, args.out, server.url, server.token)
    finally:
        subprocess.run([CLI, "spark", "stop"], env=env, capture_output=True)


if __name__ == "__main__":
    main()
