# f1-pipeline developer commands. Every target creates .venv if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The UI and the CLI share this persistent Dagster instance.
DAGSTER_HOME ?= $(CURDIR)/.dagster
export DAGSTER_HOME
# No telemetry leaves this machine.
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: run test lint ui bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml setup.cfg | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml setup.cfg | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

## run: ingest data/source-data and publish data/results/stats_{year}.json
run: $(VENV)/.installed
	$(BIN)/f1-pipeline run

## test: lint, then the whole suite (real Spark, real Dagster instance)
test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .

## ui: the Dagster UI on http://127.0.0.1:3000
ui: $(VENV)/.installed
	$(BIN)/python -c 'from pathlib import Path; from f1_pipeline.instance import prepare_home; prepare_home(Path("$(DAGSTER_HOME)"))'
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000 -w workspace.yaml

## bench: Spark pipeline vs plain pandas at x1, x10, x100, x1000 (SCALES=1,10 to limit)
bench: $(VENV)/.installed-test
	$(BIN)/python bench/run_bench.py $(if $(SCALES),--scales $(SCALES),)

clean:
	rm -rf data/cleaned data/results bench/out .pytest_cache .ruff_cache
