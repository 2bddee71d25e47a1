# Two commands on a fresh machine with only Python 3: `make report` and `make test`.
# Each bootstraps .venv itself; the venv is rebuilt when pyproject.toml changes.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DATA   ?= data/example

OUT    ?= outputs
CONFIG ?= params/council.yaml

.PHONY: report explore scorecard check test static format bench example template docs wheel clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Every service's CPR (deck, web page, notebook) for the example council's latest quarter,
## in outputs/<quarter>/<service>/, with outputs/<quarter>/index.html and manifest.json.
report: $(STAMP)
	$(BIN)/kpitools run --data $(DATA) --quarter latest --config $(CONFIG) --out $(OUT)

## The analyst's exploration notebook for the example council's latest quarter:
## outputs/<quarter>/explore.ipynb and explore.html.
explore: $(STAMP)
	$(BIN)/kpitools explore --data $(DATA) --period latest --config $(CONFIG) --out $(OUT)

## The example council's scorecard for its latest quarter, in the terminal.
scorecard: $(STAMP)
	$(BIN)/kpitools scorecard --data $(DATA) --period latest --config $(CONFIG)

## Fast checks while working (well under a minute): lint, format, types, import contracts and
## the in-process tests (no notebooks, browser, office suite or subprocesses).
check: $(STAMP) static
	$(BIN)/pytest -m "not slow" -q

## Everything: the static checks and the whole test suite, browser and office suite included.
test: $(STAMP) static
	$(BIN)/pytest

static: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

## Rewrite the command-line reference (docs/cli.md) from the commands themselves.
docs: $(STAMP)
	$(BIN)/python -m kpitools.cli.reference docs/cli.md

## Build the wheel and the source distribution into dist/.
wheel: $(STAMP)
	$(BIN)/python -m build --outdir dist .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Speed benchmarks (not part of `make test`): the scorecard, then the quarterly batch.
bench: $(STAMP)
	$(BIN)/python benchmarks/scorecard.py
	$(BIN)/python benchmarks/batch.py

## Regenerate the example council from its seeded script.
example: $(STAMP)
	$(BIN)/python data/make_example.py data/example

## Rebuild the default 16:9 slide template shipped in kpitools/report/templates/.
template: $(STAMP)
	$(BIN)/python -m kpitools.report.template

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache build dist
