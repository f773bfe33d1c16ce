# The renewal pipeline. Two commands for a newcomer: `make run` (the whole pipeline locally)
# and `make test`. Everything they need is installed by the targets below.
SHELL := /bin/bash
# The Lambda runtime's minor version (template.yaml: python3.13), found on PATH or under pyenv;
# infra/find_python.sh says what to install when it is missing.
PYTHON ?= $(shell infra/find_python.sh 2>/dev/null || echo python3.13)
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .venv-tools
CHECKOV := .venv-checkov
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.txt functions/shared/requirements.txt requirements.lock | sha1sum | cut -c1-12)

.PHONY: help run remind reconcile redrive test bench chromium unit lint eslint format validate openapi openapi-check lock clean stop-hint bootstrap

help:
	@echo "make run        start the whole pipeline locally (installs what it needs)"
	@echo "make reconcile  run reconciliation once on the running stack (Stripe, carrier, stuck orders)"
	@echo "make redrive    move dead-lettered messages back (QUEUE=activation|mail) after an outage"
	@echo "make remind     run the expiry reminders once on the running stack (NOW=<ISO 8601> as of then)"
	@echo "make test       lint-free unit, integration and end-to-end tests (starts its own stack)"
	@echo "make unit       only the fast domain tests"
	@echo "make bench      cold start, latency, throughput, cost, reminder scaling, package size -> BENCHMARKS.md"
	@echo "make lint       ESLint (site/), ruff, mypy, import contracts, OpenAPI drift check"
	@echo "make validate   cfn-lint (with infra/cfn_rules), sam validate --lint and checkov on template.yaml (own venvs)"
	@echo "make openapi    regenerate openapi.json from the code"

bootstrap: $(STAMP)

$(STAMP):
	@bash infra/bootstrap.sh "$(PYTHON)" "$(VENV)"
	@rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(PY) -m infra.local.stack $(ARGS)

remind: $(STAMP)
	$(PY) -m infra.local.remind $(if $(NOW),--now "$(NOW)")

reconcile: $(STAMP)
	$(PY) -m infra.local.remind --schedule ReconcileFunction-Reconcile $(if $(NOW),--now "$(NOW)")

redrive: $(STAMP)
	$(PY) -m infra.redrive $(or $(QUEUE),activation)

test: $(STAMP) chromium
	$(PY) -m pytest

# Starts its own stack on free ports; the SAM CLI (.venv-tools) builds the packages it sizes.
bench: $(STAMP) $(TOOLS)/.installed
	$(PY) -m infra.bench $(ARGS)

# Debian's Chromium for the browser tests (tests/browser); quick when already installed.
chromium:
	@bash tests/browser/install_chromium.sh

unit: $(STAMP)
	$(PY) -m pytest tests/unit -q

# ESLint for site/, pinned in package.json / package-lock.json, installed here by npm ci.
ESLINT_STAMP := node_modules/.installed-$(shell cat package-lock.json | sha1sum | cut -c1-12)

$(ESLINT_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

eslint: $(ESLINT_STAMP)
	node_modules/.bin/eslint site

lint: $(STAMP) eslint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy functions infra tests
	cd functions/shared && ../../$(VENV)/bin/lint-imports --no-cache --config ../../pyproject.toml
	$(PY) -m infra.openapi --check

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

openapi: $(STAMP)
	$(PY) -m infra.openapi

$(TOOLS)/.installed: requirements-tools.txt
	@infra/find_python.sh >/dev/null || command -v "$(PYTHON)" >/dev/null
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q -r requirements-tools.txt
	touch $@

$(CHECKOV)/.installed: requirements-checkov.txt requirements-checkov.lock
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install -q -r requirements-checkov.txt -c requirements-checkov.lock
	touch $@

# cfn-lint with the house rules (infra/cfn_rules), SAM's own lint, and checkov: every checkov
# finding is fixed or skipped in the template with a one-line reason, so any new one fails here.
validate: $(TOOLS)/.installed $(CHECKOV)/.installed
	$(TOOLS)/bin/cfn-lint --append-rules infra/cfn_rules -- template.yaml
	$(TOOLS)/bin/sam validate --lint --region us-east-1 --template-file template.yaml
	$(CHECKOV)/bin/checkov --file template.yaml --framework cloudformation --quiet --compact --skip-download

lock: $(STAMP)
	@{ head -2 requirements.lock; $(VENV)/bin/pip freeze --exclude-editable; } > requirements.lock.new && mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) $(TOOLS) $(CHECKOV) .local node_modules infra/local/node_modules .pytest_cache .mypy_cache .ruff_cache
