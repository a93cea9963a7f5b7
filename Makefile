# Every target sets itself up: a fresh machine with only Python needs nothing else.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: venv demo test check fmt bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	# torch first, pinned to the local CPU build: an unpinned torch pulls a multi-GB CUDA build.
	$(PIP) install --quiet "torch==2.13.0"
	$(PIP) install --quiet -e ".[all,dev,bench]"
	touch $(STAMP)

venv: $(STAMP)

# The main job on its built-in default: MiniLM on the bundled probe corpus -> reports/minilm/.
# (The demo target owns that folder and replaces it on every run.)
demo: $(STAMP)
	$(VENV)/bin/subspacekit analyze --out reports/minilm --force

check: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/mypy src/subspacekit/core src/subspacekit/errors.py

fmt: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

test: check
	OMP_NUM_THREADS=2 $(PY) -m pytest -q

bench: $(STAMP)
	OMP_NUM_THREADS=2 $(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
