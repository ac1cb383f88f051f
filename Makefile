# Product Importer — every task a developer or CI needs. The Makefile builds its own virtualenv;
# nothing is installed by hand. Targets are idempotent and fast on the second run.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Reinstall when the dependency list changes.
DEV_STAMP := $(VENV)/.dev-installed
CDK_STAMP := $(VENV)/.cdk-installed

export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv test test-python test-frontend check lint typecheck bench up synth frontend clean

help:
	@echo "make up      - run the whole stack locally (API + UI on http://127.0.0.1:8000)"
	@echo "make test    - install what is needed and run every test"
	@echo "make check   - ruff + mypy + tests"
	@echo "make bench   - benchmark the ingestion core and the local pipeline (docs/benchmarks.md)"
	@echo "make synth   - synthesize the CDK app offline into cdk.out/"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

$(CDK_STAMP): pyproject.toml | $(DEV_STAMP)
	$(BIN)/pip install -q -e '.[dev,cdk]'
	@touch $@

venv: $(DEV_STAMP)

test: test-python

test-python: $(DEV_STAMP)
	$(BIN)/pytest tests/unit tests/integration

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

check: lint typecheck test

bench: $(DEV_STAMP)
	$(PY) -m tests.bench.run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache cdk.out
