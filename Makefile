# Two commands do all set-up: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8774
SCENARIO ?= default

.PHONY: run test lint install install-test bench clean

# What `make test` runs before pytest: ruff and mypy, so CI keeps the tree linted and typed.
TEST_FIRST := lint

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'

run: install
	$(BIN)/fakeecs serve --host 127.0.0.1 --port $(PORT) --scenario $(SCENARIO)

# ruff (lint + format check) and mypy (strict for fakeecs.model); config in pyproject.toml
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install-test $(TEST_FIRST)
	$(BIN)/python -m pytest -q -n 2 $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python -m fakeecs.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info
