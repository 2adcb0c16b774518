# Everything runs from a local .venv built from pyproject.toml, so a fresh clone needs only
# python3 (3.11 or newer) and GNU make. The .venv is rebuilt when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help venv demo test lint format bench check serve clean

help:
	@echo "make demo   offline end-to-end demo of the app (no Slack, no Hamsa, no tokens)"
	@echo "make test   the test suite"
	@echo "make lint   ruff check, format check and mypy"
	@echo "make format apply ruff's fixes and formatting"
	@echo "make bench  benchmarks on loopback"
	@echo "make check  check your settings (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, HAMSA_API_KEY, ...)"
	@echo "make serve  run the app with your settings"
	@echo "make clean  remove .venv and caches"
	@echo "Each target creates .venv first when needed (PYTHON=$(PYTHON))."

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: run make PYTHON=python3.11 ...")'
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { echo "$(PYTHON) cannot create virtual environments: install python3-venv (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/hamsa-bot demo

test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench

check: $(STAMP)
	$(BIN)/hamsa-bot check

serve: $(STAMP)
	$(BIN)/hamsa-bot serve

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis build dist *.egg-info
