# Two commands for a newcomer: `make demo` (main job, offline) and `make test`.
# Each creates the virtualenv with torch==2.13.0 (CPU build) and the package on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA := $(or $(DFAZOO_DATA),$(wildcard ../shared/data))
export HF_HUB_OFFLINE ?= 1

.PHONY: demo test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/dfazoo demo

test: $(BIN)/.installed
	DFAZOO_DATA=$(DATA) $(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(BIN)/.installed
	$(BIN)/python eval/bench_core.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
