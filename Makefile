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

# Debian's Chromium + ChromeDriver for the report's browser test (no browser download).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; else \
	  { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  echo "warning: chromium/chromium-driver not installed: the browser test will skip"; fi

demo: install
	$(BIN)/mmme demo

test: install browser
	$(BIN)/ruff check mmme tests benchmarks examples
	$(BIN)/lint-imports
	$(BIN)/python -m pytest tests

.PHONY: install browser demo test
