# The renewal pipeline. Two commands for a newcomer: `make run` (the whole pipeline locally)
# and `make test`. Everything they need is installed by the targets below.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .venv-tools
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
	@echo "make lint       ESLint (site/), ruff, mypy, OpenAPI drift check"
	@echo "make validate   cfn-lint and sam validate --lint on template.yaml (own venv)"
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
	$(PY) -m infra.openapi --check

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

openapi: $(STAMP)
	$(PY) -m infra.openapi

$(TOOLS)/.installed: requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install -q -r requirements-tools.txt
	touch $@

validate: $(TOOLS)/.installed
	$(TOOLS)/bin/cfn-lint template.yaml
	$(TOOLS)/bin/sam validate --lint --region us-east-1 --template-file template.yaml

lock: $(STAMP)
	@{ head -2 requirements.lock; $(VENV)/bin/pip freeze --exclude-editable; } > requirements.lock.new && mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV) $(TOOLS) .local node_modules infra/local/node_modules .pytest_cache .mypy_cache .ruff_cache
