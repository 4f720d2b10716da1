# wuhan-pdr: install, run, test. The two commands a newcomer needs are `make run` and
# `make test` (README.md); everything else here is a step of those two.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Optional local overrides (KEY=value lines, no quotes; see .env.example). honcho reads the
# same file for the processes it starts, so every step sees the same configuration.
ifneq (,$(wildcard .env))
include .env
export $(shell sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' .env)
endif

# Never let uv fetch a Python build: the machine's CPython 3.11 is the one we use.
export UV_PYTHON_DOWNLOADS := never
PYTHON_VERSION ?= python3.11
# The system's python3 (recipes see .venv/bin first on PATH, see below).
SYSTEM_PYTHON := $(shell command -v python3)
UV := $(shell command -v uv 2>/dev/null || echo "$(SYSTEM_PYTHON) -m uv")

DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wuhan_pdr
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/wuhan_pdr_bench
PORT ?= 8000
export DATABASE_URL PORT

VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
# Processes started by honcho find gunicorn, celery and python in the virtualenv.
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

# In CI the test database is always built afresh (a clone may meet a database left by an
# older migration history); locally pytest keeps it between runs (--reuse-db).
PYTEST_ARGS ?=
ifeq ($(CI),true)
PYTEST_ARGS += --create-db
endif

# `compilemessages` walks the whole tree; the virtualenv's packages bring their own .mo files.
MESSAGES_IGNORE := --ignore=.venv --ignore=var --ignore=node_modules --ignore=.git

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# ---------------------------------------------------------------------------------------
# Building blocks

.PHONY: uv
uv:
	@$(UV) --version >/dev/null 2>&1 \
	  || { echo "uv not found: installing it with pip"; $(SYSTEM_PYTHON) -m pip install --quiet uv; }

.PHONY: install
# --compile-bytecode: the packages' .pyc files are written once at install, so start-up stays
# fast even where PYTHONDONTWRITEBYTECODE is set (it costs ~15 s on the first install only).
install: uv ## Create or update .venv from uv.lock (runtime + dev groups)
	$(UV) sync --frozen --python $(PYTHON_VERSION) --compile-bytecode

# Debian packages the tests need: Chromium and a CJK font for the browser journeys, gettext
# for translations. Installed only when missing and only as root (CI is root); never through
# `playwright install`, which downloads a browser build of its own.
.PHONY: system-packages
system-packages:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing="$$missing fonts-wqy-microhei"; \
	command -v msgfmt >/dev/null 2>&1 || missing="$$missing gettext"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian packages:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "warning: missing Debian packages:$$missing (sudo apt-get install$$missing)" >&2; \
	fi

.PHONY: messages
messages: install ## Compile locale/*.po into .mo (skipped when there is none)
	@if compgen -G "locale/*/LC_MESSAGES/*.po" >/dev/null; then \
	  command -v msgfmt >/dev/null 2>&1 || { echo "msgfmt not found: apt-get install gettext" >&2; exit 1; }; \
	  $(MANAGE) compilemessages $(MESSAGES_IGNORE) --verbosity 0; \
	  echo "translations compiled"; \
	else \
	  echo "no .po files under locale/: nothing to compile"; \
	fi

# Create the database named in DATABASE_URL if it does not exist yet (connects to the
# server's `postgres` database with the same credentials).
define CREATEDB_PY
import os, sys
import environ, psycopg
from psycopg import sql

cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
name = cfg["NAME"]
params = {"dbname": "postgres", "user": cfg.get("USER") or None,
          "password": cfg.get("PASSWORD") or None, "host": cfg.get("HOST") or None,
          "port": cfg.get("PORT") or None, "connect_timeout": 5}
try:
    conn = psycopg.connect(**{k: v for k, v in params.items() if v is not None}, autocommit=True)
except psycopg.OperationalError as exc:
    sys.exit(f"cannot reach PostgreSQL for {name!r}: {exc}\nIs PostgreSQL running? (see README.md)")
with conn:
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
        print(f"database {name} exists")
    else:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"database {name} created")
endef
export CREATEDB_PY

.PHONY: db
db: install ## Create the database of DATABASE_URL if missing
	@$(PY) -c "$$CREATEDB_PY"

# The database's least-privilege roles (<db>_owner, _web, _worker, _zone_restricted,
# _zone_sensitive; security/dbroles.py), created or brought up to date over DATABASE_ADMIN_URL
# (default: DATABASE_URL, the superuser here with trust authentication). Idempotent.
.PHONY: roles
roles: db ## Create or update the database roles (owner, web, worker, zones)
	@env -u DATABASE_ROLE $(MANAGE) db_roles

# The owner runs migrate, seed_demo and collectstatic; the Procfile gives web, workers and
# beat their own roles.
AS_OWNER := env DATABASE_ROLE=owner

.PHONY: migrate
migrate: roles ## Apply migrations (as the owner role)
	$(AS_OWNER) $(MANAGE) migrate --noinput

.PHONY: seed
seed: migrate ## Load the demo organizations and users (idempotent)
	$(AS_OWNER) $(MANAGE) seed_demo

.PHONY: static
static: install
	@mkdir -p var
	$(AS_OWNER) $(MANAGE) collectstatic --noinput --verbosity 0

.PHONY: prepare
prepare: install messages migrate seed static
	@mkdir -p var

# ---------------------------------------------------------------------------------------
# The two commands

.PHONY: run
run: prepare ## Serve the portal: gunicorn on 127.0.0.1:PORT (8000) + Celery workers (default, long, ledger) + beat; Ctrl-C stops all
	@echo "portal on http://127.0.0.1:$(PORT)/ (demo logins: README.md); Ctrl-C stops web, workers and beat"
	exec honcho start web worker worker_long worker_ledger beat

.PHONY: test
test: install system-packages messages ## ruff check, then the whole pytest suite (real PostgreSQL and Redis)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

# ---------------------------------------------------------------------------------------
# More

.PHONY: dev
dev: prepare ## Like run, with Django's runserver (DEBUG on, reloads on change)
	@{ echo 'web: DATABASE_ROLE=web python manage.py runserver 127.0.0.1:$$PORT'; grep -E '^(worker|worker_long|worker_ledger|beat):' Procfile; } > var/Procfile.dev
	DJANGO_DEBUG=true exec honcho start -f var/Procfile.dev web worker worker_long worker_ledger beat

.PHONY: lint
lint: install ## ruff check + ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

.PHONY: format
format: install ## Apply ruff format and the safe ruff fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: bench
bench: install ## Benchmarks into bench/results/latest.json (ONLY=name for one)
	@$(MAKE) migrate static DATABASE_URL=$(BENCH_DATABASE_URL) >/dev/null
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_SETTINGS_MODULE=wuhan_pdr.settings.local \
	  $(PY) bench/run.py $(if $(ONLY),--only $(ONLY))

.PHONY: clean
clean: ## Remove collected static files, beat schedule and caches (keeps .venv and databases)
	rm -rf var/static var/celerybeat-schedule* var/Procfile.dev .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +
