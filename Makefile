# The two commands a newcomer needs: `make run` and `make test`. Everything else they need is
# installed by `make install` (a venv for Python, npm for the pinned Azurite).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# pip prints errors only (-qq); each step prints one line of its own instead.
PIP_INSTALL = -m pip install -qq --disable-pip-version-check
# checkov's own dependency pins clash with the app's, so it gets a venv of its own.
INFRA_VENV := .venv-infra
PORT ?= 7071
AZURITE_BLOB_PORT ?= 10000
AZURITE_QUEUE_PORT ?= 10001
AZURITE_TABLE_PORT ?= 10002
WAIT_TIMEOUT ?= 180
# make run records its process here, one file per port, for make stop.
RUN_PIDFILE = .make-run-$(PORT).pid
PYTEST_ARGS ?=

.PHONY: install run wait stop test bench load fuzz clean

install: $(VENV)/.installed node_modules/.installed $(INFRA_VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt cli/pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: Python 3.11 is required ($(PYTHON) not found)" >&2; exit 1; }
	@test -x $(PY) || { echo "==> creating $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> installing Python packages (requirements-dev.txt)"
	@$(PY) $(PIP_INSTALL) --upgrade pip
	@$(PY) $(PIP_INSTALL) -r requirements-dev.txt
	@echo "==> installing the command-line client (cli/)"
	@$(PY) $(PIP_INSTALL) -e ./cli
	@touch $@

$(INFRA_VENV)/.installed: requirements-infra.txt
	@test -x $(INFRA_VENV)/bin/python || { echo "==> creating $(INFRA_VENV)"; $(PYTHON) -m venv $(INFRA_VENV); }
	@echo "==> installing the infrastructure checks (requirements-infra.txt)"
	@$(INFRA_VENV)/bin/python $(PIP_INSTALL) -r requirements-infra.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: npm (Node 20) is required to install Azurite" >&2; exit 1; }
	@echo "==> installing Azurite (npm ci)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

local.settings.json:
	@echo "==> creating local.settings.json from local.settings.example.json"
	@cp local.settings.example.json local.settings.json

# Running needs the app's venv and Azurite, not the infrastructure checks' venv.
run: $(VENV)/.installed node_modules/.installed local.settings.json
	@$(PY) -m tools.devtoken --ensure-keys
	@echo "==> starting Azurite and the API on http://localhost:$(PORT) (Ctrl-C or make stop stops both)"
	@$(PY) -m tools.azurite --foreground --pidfile $(RUN_PIDFILE) --location .azurite --keep-settings \
		--ports $(AZURITE_BLOB_PORT),$(AZURITE_QUEUE_PORT),$(AZURITE_TABLE_PORT) -- \
		$(PY) -m tools.serve --port $(PORT)

# Until http://localhost:$(PORT)/health answers 200. The system Python: make run may still
# be creating .venv.
wait:
	@$(PYTHON) -m tools.wait --port $(PORT) --timeout $(WAIT_TIMEOUT)

stop:
	@$(PYTHON) -m tools.stop $(RUN_PIDFILE)

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
