# Quick start and checks. `make run` brings up the whole platform on SQLite and an
# embedded broker; `make test` runs the lint gates and the test suite.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# Re-install when the dependency files change; otherwise installing is a no-op.
INSTALLED := $(VENV)/.installed
PYTEST_ARGS ?=
# pytest-xdist processes (each with its own test database and Redis database); 0 runs the
# suite in this process. Two halve the suite's time on a two-core machine.
PYTEST_WORKERS ?= 2

# honcho stops everything on Ctrl-C, but kills what is still running after 5 seconds; a
# Celery worker's warm shutdown on the filesystem broker takes longer (it puts the tasks
# it holds back on the queue), so give it 20.
define HONCHO
import sys, honcho.command, honcho.manager
honcho.manager.KILL_WAIT = 20
sys.argv[0] = "honcho"
sys.exit(honcho.command.main())
endef
export HONCHO

export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help install run test lint system-packages

help:
	@echo "make run    install, migrate, load demo data and start web + worker (Ctrl-C stops)"
	@echo "make test   install, then ruff, Django checks and pytest (PYTEST_ARGS=..., PYTEST_WORKERS=2)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Debian packages: python-ldap compiles against libldap and libsasl; SAML signs with xmlsec1;
# the tests start slapd and Prometheus Alertmanager on loopback; German messages are compiled
# with gettext's msgfmt.
DEBS := libldap2-dev libsasl2-dev xmlsec1 slapd ldap-utils gettext prometheus-alertmanager

system-packages:
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

$(INSTALLED): $(BIN)/python pyproject.toml constraints.txt | system-packages
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

# Translations: a .mo is compiled from its .po (build output, not kept in git) when the
# .po is newer; `run` and `test` both go through install.
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/*.po))

%.mo: %.po | $(INSTALLED)
	$(BIN)/python manage.py compilemessages --ignore=$(VENV) --verbosity 0

install: $(INSTALLED) $(MO_FILES)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py load_demo
	@echo "Starting on http://127.0.0.1:8000/ (log in as agent / demo); Ctrl-C stops."
	$(BIN)/python -c "$$HONCHO" -f Procfile.quickstart start || [ $$? -eq 130 ]  # Ctrl-C: a clean stop

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Production settings (HTTPS, DEBUG off, a long random key, a real host name) pass Django's
# deployment checks with no warning.
PRODUCTION_ENV = HTTPS=1 DEBUG=0 ALLOWED_HOSTS=itsm.example.org \
	SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')"

test: lint
	$(BIN)/python manage.py check
	$(PRODUCTION_ENV) $(BIN)/python manage.py check --deploy --fail-level WARNING
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)
