# Two commands do all the set-up: `make test` and `make run`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
RUNTIME_WHEEL := azure-functions-runtime==1.3.0
CHECKOV_VENV  := .venv-checkov

.PHONY: test run bench deps clean checkconfig chromium

deps: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements-dev.txt
	rm -rf $(VENV)/wheels && mkdir -p $(VENV)/wheels
	$(PIP) download --no-deps --only-binary=:all: --python-version 3.13 -d $(VENV)/wheels $(RUNTIME_WHEEL)
	$(PIP) install --no-deps --ignore-requires-python $(VENV)/wheels/*.whl
	touch $@

# checkov (the Bicep policy scan in tests/infra) has its own venv: its pins clash with requirements-dev.txt.
$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip --disable-pip-version-check -q install -r requirements-checkov.txt
	touch $@

# npm ci installs the pinned tools from package-lock.json. Azure Functions Core Tools is an optional
# dependency: its postinstall downloads the host, so offline it fails and npm leaves it out.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The dashboard tests drive Debian's chromium through Playwright (nothing downloaded at test time).
chromium:
	command -v chromium || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

test: deps chromium
	PROW_REQUIRE_CHECKOV=1 $(PY) -m pytest $(PYTEST_ARGS)

run: deps
	$(PY) scripts/run_local.py

bench: deps chromium
	$(PY) -m bench $(BENCH_ARGS)

checkconfig: deps
	$(PY) -m shared.cli checkconfig $(ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .azurite .pytest_cache
