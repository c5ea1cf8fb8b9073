# The two commands are `make run` and `make test`; everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080

.PHONY: run test lint typecheck pytest pixel pixel-test chromium tasks-emulator infra-check bench requirements clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: the whole engine locally on http://127.0.0.1:$(PORT) (Ctrl-C stops it all)
run: $(STAMP) pixel
	$(BIN)/oie dev run --port $(PORT)

## make test: everything CI runs — lint, types, pixel, unit, integration, browser, end-to-end and infra tests
test: $(STAMP) pixel chromium lint typecheck pixel-test pytest

lint: $(STAMP)
	$(BIN)/ruff check functions tests
	$(BIN)/ruff format --check functions tests

typecheck: $(STAMP)
	$(BIN)/mypy functions

pytest: $(STAMP) tasks-emulator
	$(BIN)/python -m pytest -q

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

infra-check: $(STAMP)
	$(BIN)/python -m pytest -q tests/infra

## make bench: latency and import-time figures (a benchmark, not a test)
bench: $(STAMP) pixel chromium
	$(BIN)/python tests/bench/run.py

requirements: $(STAMP)
	$(BIN)/oie dev requirements

clean:
	rm -rf $(VENV) .venv-checkov .venv-tasks-emulator pixel/node_modules pixel/dist .pytest_cache .mypy_cache .ruff_cache
