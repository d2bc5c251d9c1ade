# Set-up and main jobs. `make demo` and `make test` work on a fresh clone.
PY ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/mmme: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/pip install -q --no-deps biosignalsnotebooks==0.6.14
	touch $(BIN)/mmme

install: $(BIN)/mmme

demo: install
	$(BIN)/mmme demo

test: install
	$(BIN)/ruff check mmme tests benchmarks examples
	$(BIN)/lint-imports
	$(BIN)/python -m pytest tests

.PHONY: install demo test
