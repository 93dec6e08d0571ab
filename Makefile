# The README's two commands: `make run` (console with demo data) and `make test` (the suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test worker seed clean-var

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(BIN)/python -m core run

test: $(VENV)/.dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: $(VENV)/.runtime
	$(BIN)/python -m core worker

seed: $(VENV)/.runtime
	$(BIN)/python -m core demo seed

clean-var:
	rm -rf var/
