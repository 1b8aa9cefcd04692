# Two commands on a fresh machine with Python 3.11+:
#   make report   set up .venv, write the demo data, validate it and publish the demo month
#   make test     set up .venv and run the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO   := data/demo
# the latest complete month
MONTH  ?= $(shell $(PYTHON) -c 'import datetime as d; t = d.date.today().replace(day=1) - d.timedelta(days=1); print(t.strftime("%Y-%m"))')
OUT    ?= reports
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: setup demo report test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed: run make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(DEMO)/dealers.csv: $(STAMP)
	$(BIN)/channel-analysis demo-data --out $(DEMO) --end $(MONTH)

demo: $(DEMO)/dealers.csv

report: $(DEMO)/dealers.csv
	$(BIN)/channel-analysis validate --data $(DEMO) --out $(OUT)/validate > /dev/null
	$(BIN)/channel-analysis run --data $(DEMO) --month $(MONTH) --out $(OUT)
	@echo "open $(OUT)/$(MONTH)/index.html"

test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/validate.py
	$(BIN)/python bench/panel.py
	$(BIN)/python bench/early_warning.py

clean:
	rm -rf $(DEMO) $(DEMO).truth $(OUT)/validate
