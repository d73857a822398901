# Two commands a newcomer needs: `make run` and `make test`. Everything runs in .venv.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
PORT ?= 8000
WEB_CONCURRENCY ?= 2
GUNICORN_THREADS ?= 512

# Python >= 3.12: PYTHON if given, then python3.13 / python3.12 if they run, then pyenv's versions.
FIND_PYTHON := for c in $(PYTHON) python3.13 python3.12 \
	$$(ls -d $$(pyenv root 2>/dev/null || echo $$HOME/.pyenv)/versions/3.1[2-9]*/bin/python 2>/dev/null | sort -rV); do \
	  "$$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v "$$c"; exit 0; }; \
	done; exit 1

# The test suite uses PostgreSQL when one answers on 127.0.0.1:5432 (CI insists on it).
LOCAL_PG := postgres://postgres@127.0.0.1:5432/referral
TEST_DATABASE_URL ?= $(shell $(PY) -c 'import psycopg; psycopg.connect("$(LOCAL_PG)".rsplit("/", 1)[0] + "/postgres", connect_timeout=2).close(); print("$(LOCAL_PG)")' 2>/dev/null)

.PHONY: help venv run serve worker test tools lint format migrate clean bench

help:
	@echo "make run    - fresh clone -> http://127.0.0.1:$(PORT) (SQLite, demo SMS backend)"
	@echo "make test   - the whole suite (lint, unit, integration) on PostgreSQL if reachable"
	@echo "make tools  - chromium, gettext, wrk, pgbouncer, promtool if missing (as root with apt-get); make test runs it"
	@echo "make serve  - production server: gunicorn, PORT=$(PORT), WEB_CONCURRENCY=$(WEB_CONCURRENCY)"
	@echo "make worker - a background queue worker (manage.py queue_worker); needs PostgreSQL"
	@echo "make bench  - benchmarks and abuse drills (bench/), about 8 minutes"

$(STAMP): requirements.txt requirements-dev.txt
	@py=$$($(FIND_PYTHON)) || { echo "No Python >= 3.12 found. Install one, or run: make PYTHON=/path/to/python3.12 ..." >&2; exit 1; }; \
	  echo "Using $$py ($$($$py --version))"; \
	  [ -x $(PY) ] || $$py -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

# Node tools for the suite: newman (Postman collection) and axe-core (accessibility).
NODE_STAMP := node_modules/.installed
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE_STAMP)

run: $(STAMP)
	@$(PY) manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules \
	  || echo "Note: gettext's msgfmt is missing, so the interface stays in English."
	DEBUG=1 SMS_BACKEND=demo DATABASE_URL= $(PY) manage.py migrate --noinput
	@# A small demo rewards program, only where none is set (production starts with none).
	DEBUG=1 SMS_BACKEND=demo DATABASE_URL= $(PY) manage.py rewards_program --if-none --referrer 100 \
	  --friend 50 --milestone 3=500 --milestone 10=2000 --unit points --hold-days 0 >/dev/null
	DEBUG=1 SMS_BACKEND=demo DATABASE_URL= WEBHOOK_ALLOW_PRIVATE=1 $(PY) manage.py runserver 127.0.0.1:$(PORT)

serve: $(STAMP)
	$(PY) manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules
	$(PY) manage.py collectstatic --noinput -v0
	PORT=$(PORT) WEB_CONCURRENCY=$(WEB_CONCURRENCY) GUNICORN_THREADS=$(GUNICORN_THREADS) \
	  exec $(BIN)/gunicorn --config site_config/gunicorn.conf.py

# A worker of the background queue (events/queue.py): run any number, anywhere.
worker: $(STAMP)
	exec $(PY) manage.py queue_worker

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# System packages the suite needs (chromium, gettext, wrk): installed when missing if
# root with apt-get, else one line says what to install (scripts/install-test-tools).
tools:
	@scripts/install-test-tools

test: lint tools $(NODE_STAMP)
	@if [ -n "$(TEST_DATABASE_URL)" ]; then echo "Tests on PostgreSQL: $(TEST_DATABASE_URL)"; \
	  else echo "No PostgreSQL reachable: tests on SQLite; PostgreSQL-only tests are skipped."; fi
	$(PY) manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules
	DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest

# Figures for docs/benchmarks.md: needs PostgreSQL on 127.0.0.1:5432 (and wrk, else a slower client).
bench: $(STAMP)
	$(PY) -m bench.send_code
	$(PY) -m bench.profile
	$(PY) -m bench.abuse
	$(PY) -m bench.activations
	$(PY) -m bench.rewards
	$(PY) -m bench.plans
	$(PY) -m bench.report
	$(PY) -m bench.send_code --provider smsru
	$(PY) -m bench.console
	$(PY) -m bench.webhooks
	$(PY) -m bench.scrape

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
