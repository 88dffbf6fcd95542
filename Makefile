# The two commands a newcomer needs: `make run` and `make test`. Everything else they need is
# installed by `make install` (a venv for Python, npm for the pinned Azurite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# checkov's own dependency pins clash with the app's, so it gets a venv of its own.
INFRA_VENV := .venv-infra
PORT ?= 7071
PYTEST_ARGS ?=

.PHONY: install run test bench load fuzz clean

install: $(VENV)/.installed node_modules/.installed $(INFRA_VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt cli/pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -e ./cli
	touch $@

$(INFRA_VENV)/.installed: requirements-infra.txt
	test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

local.settings.json:
	cp local.settings.example.json local.settings.json

run: install local.settings.json
	$(PY) -m tools.devtoken --ensure-keys
	$(PY) -m tools.azurite --default-ports --location .azurite --keep-settings -- \
		$(PY) -m tools.serve --port $(PORT)

test: install
	$(PY) -m tools.azurite -- $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	$(PY) -m tools.azurite -- $(PY) -m bench

load: install
	$(PY) -m tools.azurite -- $(PY) -m bench.load

# Longer fuzzing than the bounded run inside `make test`.
FUZZ_EXAMPLES ?= 200
FUZZ_TIME ?= 600
fuzz: install
	FUZZ_MAX_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_MAX_TIME=$(FUZZ_TIME) FUZZ_REPORT_DIR=fuzz-report \
		$(PY) -m tools.azurite -- $(PY) -m pytest tests/e2e/test_fuzz.py -q -s

clean:
	rm -rf $(VENV) $(INFRA_VENV) node_modules .azurite .devkeys .pytest_cache .hypothesis
