# Product Importer — every task a developer or CI needs. The Makefile builds its own virtualenv and
# installs the UI's packages; nothing is installed by hand. Targets are idempotent and fast on the
# second run.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DEV_STAMP := $(VENV)/.dev-installed
CDK_STAMP := $(VENV)/.cdk-installed
NPM_STAMP := frontend/node_modules/.installed
UI_BUILD := frontend/dist/index.html
UI_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/vite.config.ts frontend/package.json

export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv up screenshots test test-python test-frontend test-ui test-infra check lint typecheck bench synth ui chromium clean

help:
	@echo "make up      - run the whole stack locally (API + UI on http://127.0.0.1:8000; UP_ARGS=\"--port 8100\" for others)"
	@echo "make test    - install what is needed and run every test"
	@echo "make check   - ruff + mypy + tests"
	@echo "make bench   - every speed and memory target against a bare COPY (docs/benchmarks.md; BENCH_ARGS=...)"
	@echo "make synth   - synthesize the CDK app offline into cdk.out/"

# --- set-up ------------------------------------------------------------------------------------

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

$(CDK_STAMP): pyproject.toml | $(DEV_STAMP)
	$(BIN)/pip install -q -e '.[dev,cdk]'
	@touch $@

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(UI_BUILD): $(NPM_STAMP) $(UI_SOURCES)
	cd frontend && npm run build --silent

venv: $(DEV_STAMP)
ui: $(UI_BUILD)

# Debian's Chromium for the browser journeys (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || \
	  { echo "installing Chromium from Debian…"; \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) || \
	    echo "Chromium could not be installed: the browser journeys will be skipped"; }

# --- run ---------------------------------------------------------------------------------------

up: $(DEV_STAMP) $(UI_BUILD)
	$(PY) -m infra.local $(UP_ARGS)

# --- tests -------------------------------------------------------------------------------------

test: test-python test-frontend test-ui test-infra

test-python: $(DEV_STAMP)
	$(BIN)/pytest tests/unit tests/integration tests/e2e -q

test-frontend: $(NPM_STAMP)
	cd frontend && npm test --silent

test-ui: $(DEV_STAMP) $(UI_BUILD) chromium
	$(PY) -m tests.run_ui_e2e

screenshots: $(DEV_STAMP) $(UI_BUILD) chromium
	PI_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(PY) -m tests.run_ui_e2e

test-infra: $(CDK_STAMP)
	$(BIN)/pytest tests/infra -m infra -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

check: lint typecheck test

# BENCH_ARGS: e.g. "--baseline-ref 1a9d6ed", "--only core,preview --runs 3" (python -m tests.bench.run --help)
BENCH_ARGS ?=
bench: $(DEV_STAMP)
	$(PY) -m tests.bench.run $(BENCH_ARGS)

synth: $(CDK_STAMP)
	$(PY) infra/app.py --stage dev,prod

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache cdk.out frontend/node_modules frontend/dist
