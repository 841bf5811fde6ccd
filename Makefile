# The two commands of README: `make run` and `make test`. Everything else here is what they need.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test setup browser lint bench clean

run: setup
	HOSPITAL_DATA_DIR=$${HOSPITAL_DATA_DIR:-var} $(BIN)/hospital demo --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

test: setup browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# face_recognition asks for dlib, which would compile for ~12 minutes; dlib-bin (installed above) provides it.
	$(BIN)/python -m pip install --quiet --no-deps face-recognition==1.3.0
	touch $(STAMP)

# Debian's Chromium for the browser tests and nginx for the replica test (installed when missing, where this
# user may install packages).
browser:
	@bash scripts/ensure-chromium.sh
	@bash scripts/ensure-nginx.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy hospital connectors

bench: setup
	for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
