# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
export PYTHONPATH := $(CURDIR)

.PHONY: run test bench chaos admin lint typecheck format install install-dev zoom-specs ops-check

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-local.txt $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-local.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install ## the whole stack on embedded services (Ctrl-C stops it)
	$(PY) -m stack.dev

test: install-dev ## the whole test suite on embedded services
	$(PY) -m pytest

bench: install-dev ## every benchmark; writes BENCHMARKS.md
	$(PY) -m bench

chaos: install-dev ## the full-stack chaos scenario
	$(PY) -m bench.chaos

admin: install ## make admin EMAIL=… PASSWORD=… NAME=… (against the stack `make run` started)
	@test -f var/stack.env || (echo "start the stack with 'make run' first (var/stack.env is missing)"; exit 1)
	@set -a; . ./var/stack.env; set +a; $(PY) -m flask --app api create-admin --email "$(EMAIL)" --password "$(PASSWORD)" --name "$(NAME)"

zoom-specs: ## download Zoom's OpenAPI specs into var/zoom-specs/ (for a clone without ../shared/)
	$(PYTHON) -m tests.zoom_spec_files

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

typecheck: install-dev ## mypy over the production packages (pyproject.toml lists them)
	$(VENV)/bin/mypy

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

ops-check: ## promtool (Debian package `prometheus`) on the alert rules, their unit tests and the scrape config
	promtool check rules ops/prometheus/alerts.yml
	cd ops/prometheus && promtool test rules alerts.test.yml
	@tmp=$$(mktemp -d); printf token > $$tmp/token; \
	sed "s#/run/secrets/metrics_token#$$tmp/token#; s#/etc/prometheus/alerts.yml#$(CURDIR)/ops/prometheus/alerts.yml#" \
	  ops/prometheus/prometheus.yml > $$tmp/prometheus.yml && promtool check config $$tmp/prometheus.yml; \
	status=$$?; rm -rf $$tmp; exit $$status
