# f1-pipeline developer commands. Every target creates its virtualenv if needed, and installs
# exactly the versions locked in requirements/*.lock (`make lock` to update them).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The Spark 3.5 lane: Glue 5's Spark, for the code that ships to the Glue job.
SPARK35_VENV ?= .venv-spark35
SPARK35_TESTS := f1_pipeline_tests/core f1_pipeline_tests/glue/test_entry.py
# Two workers, whole modules each (module fixtures stay in one process). The suite runs in
# time zones far from UTC: every timestamp written must be UTC whatever the host's. Each tier
# ends with its slowest tests, so its time budget stays visible.
PYTEST := -m pytest -n 2 --dist loadfile --durations=15
# The UI and the CLI share this persistent Dagster instance.
DAGSTER_HOME ?= $(CURDIR)/.dagster
UI_PORT ?= 3000
export DAGSTER_HOME
# The team set-up keeps its runs in PostgreSQL: a Dagster home of its own.
TEAM_HOME ?= $(CURDIR)/.dagster-team
# `dg` uses the project's virtualenv (and says so when it is not the active one).
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
# No telemetry leaves this machine.
export DAGSTER_DISABLE_TELEMETRY := 1
# Every process that creates runs gets these (see f1_pipeline/defs/instance/__init__.py): a
# many-season run's asset events are written in batches (real batches on PostgreSQL), and its
# run creation writes one planned event instead of one per season (dagster issue #32242).
export DAGSTER_EVENT_BATCH_SIZE ?= 1000
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS ?= 1

LOCK := $(BIN)/uv pip compile --quiet --python-version 3.11 --no-header --annotation-style line

.PHONY: run test test-fast test-spark35 lint typecheck ui team team-down bench lock clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(None if (3, 11) <= v < (3, 13) else "f1-pipeline needs Python 3.11 or 3.12 and $(PYTHON) is %d.%d: install python3.11 and run make PYTHON=python3.11" % v)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements/run.lock pyproject.toml setup.cfg | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements/run.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: requirements/test.lock pyproject.toml setup.cfg | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements/test.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.installed

$(SPARK35_VENV)/.installed: requirements/spark35.lock pyproject.toml setup.cfg
	$(PYTHON) -m venv $(SPARK35_VENV)
	$(SPARK35_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SPARK35_VENV)/bin/python -m pip install --quiet -r requirements/spark35.lock
	# The project without its dependencies, as the Glue job installs the wheel.
	$(SPARK35_VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

## run: ingest data/source-data and publish data/results/stats_{year}.json
run: $(VENV)/.installed
	$(BIN)/f1-pipeline run

## test: lint, the whole suite (real Spark 4, real Dagster instance), then the Spark 3.5 lane
test: $(VENV)/.installed-test lint
	TZ=America/New_York $(BIN)/python $(PYTEST)
	$(MAKE) --no-print-directory test-spark35

## test-fast: the edit-test loop (under 5 minutes): everything but the full tier — e2e, the
## Glue stand-in, Dagster's daemon loops, PostgreSQL, IAM enforcement, cold console runs
test-fast: $(VENV)/.installed-test
	$(BIN)/python $(PYTEST) -m "not e2e and not glue and not full"

## test-spark35: what ships to the Glue job, on Glue 5's Spark 3.5 (no Dagster installed):
## transforms, steps, contract, entry script; then Glue mode end to end with the job on 3.5
test-spark35: $(SPARK35_VENV)/.installed $(VENV)/.installed-test
	TZ=Asia/Kolkata $(SPARK35_VENV)/bin/python $(PYTEST) $(SPARK35_TESTS)
	F1_TEST_GLUE_PYTHON=$(CURDIR)/$(SPARK35_VENV)/bin/python \
		$(BIN)/python -m pytest f1_pipeline_tests/glue/test_glue_mode.py

## lint: ruff (public APIs only: banned private modules, SLF001), the private-access check ruff
## cannot do, the architecture's import boundaries, and the type checker

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python .ci/private_access.py f1_pipeline
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/dg check defs


## lock: re-resolve requirements/*.lock from pyproject.toml and requirements/spark35.in
lock: $(VENV)/.installed-test
	$(LOCK) pyproject.toml -o requirements/run.lock
	$(LOCK) pyproject.toml --extra test -o requirements/test.lock
	$(LOCK) requirements/spark35.in -o requirements/spark35.lock

## ui: the Dagster UI on http://127.0.0.1:3000 (`dg dev`: webserver + daemon on this project's
## home, never a throwaway one), with a warm Spark Connect server its runs use
ui: $(VENV)/.installed
	$(BIN)/f1-pipeline spark start
	trap '$(BIN)/f1-pipeline spark stop' EXIT INT TERM; \
		$(BIN)/dg dev -h 127.0.0.1 -p $(UI_PORT)

## team: the team set-up on this machine (docs/deployment.md): PostgreSQL, the warm engine, a
## gRPC code server, the webserver and the daemon as supervisord's programs; `make team-down`
## stops them and supervisord (what runs: `f1-pipeline team status`)
team: $(VENV)/.installed
	DAGSTER_HOME=$(TEAM_HOME) $(BIN)/f1-pipeline team up --port $(UI_PORT)

team-down: $(VENV)/.installed
	DAGSTER_HOME=$(TEAM_HOME) $(BIN)/f1-pipeline team down


## bench: what users wait for: f1-pipeline run cold/warm at x1, the full-scale export and
## x1000 vs naive pandas and the plain Dagster assets on pandas and on PySparkResource (3 times
## each); where the time goes; Spark jobs per step; a season event's cost; upload -> published
## through `dg dev` (make ui) and `team up` (make team), listing and queue sensors
## (SCALES=1,full to limit; NO_LATENCY=1 to skip the latency part)
bench: $(VENV)/.installed-test
	$(BIN)/python bench/run_bench.py $(if $(SCALES),--scales $(SCALES),) $(if $(NO_LATENCY),--no-latency,)


clean:
	rm -rf data/cleaned data/results bench/out .pytest_cache .ruff_cache
