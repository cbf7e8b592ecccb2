# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtual environment on first use, so a fresh clone needs nothing else.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
DEMO_DIR ?= demo

.PHONY: install demo test lint bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: install
	$(BIN)/annotary serve --demo --demo-dir $(DEMO_DIR)

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/ingest.py
