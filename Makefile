# The two commands are `make run` and `make test`; everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
# The Firestore emulator's port; empty: 8681, or a free port when 8681 is taken (a second stack).
FIRESTORE_PORT ?=

.PHONY: run test lint typecheck pytest pixel pixel-test chromium tasks-emulator bigquery-emulator infra-check bench requirements clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: the whole engine locally on http://127.0.0.1:$(PORT) (Ctrl-C stops it all);
## `make run PORT=9000` starts a second stack beside the first, with data of its own
run: $(STAMP) pixel
	$(BIN)/oie dev run --port $(PORT) $(if $(FIRESTORE_PORT),--firestore-port $(FIRESTORE_PORT))

## make test: everything CI runs — lint, types, pixel, unit, integration, browser, end-to-end and infra tests
test: $(STAMP) pixel chromium lint typecheck pixel-test pytest

lint: $(STAMP)
	$(BIN)/ruff check functions tests
	$(BIN)/ruff format --check functions tests

typecheck: $(STAMP)
	$(BIN)/mypy functions

# Two workers: the suite mostly waits (emulators, stacks, Chromium), so two share two cores well;
# `make pytest WORKERS=0` runs it in one process. loadgroup keeps the shared demo stack's tests together.
WORKERS ?= 2
pytest: $(STAMP) tasks-emulator bigquery-emulator
	$(BIN)/python -m pytest -q $(if $(filter 0,$(WORKERS)),,-n $(WORKERS) --dist loadgroup)

pixel/node_modules/.package-lock.json: pixel/package-lock.json
	cd pixel && npm ci --no-audit --no-fund

## make pixel: build pixel/dist/oie.js and oie-p.js with esbuild
pixel: pixel/node_modules/.package-lock.json
	cd pixel && npm run --silent build

pixel-test: pixel
	cd pixel && npm test

chromium:
	bash tests/browser/ensure_chromium.sh

# The Cloud Tasks gRPC emulator, in a virtual environment of its own (it pins an old protobuf).
tasks-emulator:
	bash tests/tasks_emulator/ensure.sh

# The BigQuery REST emulator (bqemulator), in a virtual environment of its own too.
bigquery-emulator:
	bash tests/bigquery_emulator/ensure.sh

infra-check: $(STAMP)
	$(BIN)/python -m pytest -q tests/infra

## make bench: latency and import-time figures (a benchmark, not a test)
bench: $(STAMP) pixel chromium
	$(BIN)/python tests/bench/run.py

requirements: $(STAMP)
	$(BIN)/oie dev requirements

clean:
	rm -rf $(VENV) .venv-checkov .venv-tasks-emulator .venv-bigquery-emulator pixel/node_modules pixel/dist .pytest_cache .mypy_cache .ruff_cache
