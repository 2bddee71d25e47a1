# Two commands on a fresh machine with only Python 3: `make report` and `make test`.
# Each bootstraps .venv itself; the venv is rebuilt when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/example

.PHONY: report test lint format bench example clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Scorecard of the bundled example council for its latest quarter.
report: $(STAMP)
	$(BIN)/kpitools scorecard --data $(DATA) --period latest

## Lint, format check and the whole test suite.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Speed benchmarks (not part of `make test`).
bench: $(STAMP)
	$(BIN)/python benchmarks/scorecard.py

## Regenerate the example council from its seeded script.
example: $(STAMP)
	$(BIN)/python data/make_example.py data/example

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
