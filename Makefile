# The two set-up commands of the README: `make demo` and `make test`.
# Each creates the virtual environment on first use, so a fresh clone needs nothing else.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3
DEMO_DIR ?= demo
DEMO_DB := sqlite:///$(abspath $(DEMO_DIR))/annotary.db

.PHONY: install demo test lint bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: install
	rm -rf $(DEMO_DIR)
	$(BIN)/annotary init $(DEMO_DIR) --template classification
	$(BIN)/annotary db upgrade --db $(DEMO_DB)
	$(BIN)/annotary project create $(DEMO_DIR)/project.yaml --db $(DEMO_DB)
	$(BIN)/annotary import classification-demo $(DEMO_DIR)/sample.jsonl --db $(DEMO_DB)
	$(BIN)/annotary status classification-demo --db $(DEMO_DB)

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/ingest.py
