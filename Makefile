# The two commands are `make run` and `make test`; everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080

.PHONY: run test lint typecheck pytest infra-check bench requirements clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## make run: the whole engine locally on http://127.0.0.1:$(PORT) (Ctrl-C stops it all)
run: $(STAMP)
	$(BIN)/oie dev run --port $(PORT)

## make test: everything CI runs — lint, types, unit, integration, end-to-end and infra tests
test: $(STAMP) lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check functions tests
	$(BIN)/ruff format --check functions tests

typecheck: $(STAMP)
	$(BIN)/mypy functions

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

infra-check: $(STAMP)
	$(BIN)/python -m pytest -q tests/infra

## make bench: latency and import-time figures (a benchmark, not a test)
bench: $(STAMP)
	$(BIN)/python tests/bench/run.py

requirements: $(STAMP)
	$(BIN)/oie dev requirements

clean:
	rm -rf $(VENV) .venv-checkov pixel/node_modules pixel/dist .pytest_cache .mypy_cache .ruff_cache
