# Two commands set everything up on a fresh machine:
#   make run   - virtualenv, install, migrate, demo data, serve on http://127.0.0.1:8000
#   make test  - virtualenv, install, run the test suite (SQLite unless DATABASE_URL is set)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000

.PHONY: run test lint install migrate demo worker beat bench clean fuzz fuzz-quick check-deploy

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	mkdir -p var
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo
	$(PY) manage.py runserver $(HOST)

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

# Production settings pass Django's deployment checklist with no warning (HTTPS, HSTS, secure
# cookies; see README "Configuration"). Throwaway keys: only the settings are checked.
check-deploy: install
	DEBUG=false \
	SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	FIELD_ENCRYPTION_KEY="$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
	$(PY) manage.py check --deploy --fail-level WARNING

# Every queue the tasks go to: celery (default), stamping (CFDI), documents (PDF, mail), sync.
worker: install
	$(VENV)/bin/celery -A erp worker -l info -Q celery,stamping,documents,sync

beat: install
	$(VENV)/bin/celery -A erp beat -l info

# Schemathesis (stateful phase included) against a freshly seeded server for FUZZ_SECONDS
# (default 900); fails on any 5xx. See fuzz/run.py.
fuzz: install
	$(PY) fuzz/run.py

# Bounded: every operation of the schema with at most 20 generated cases each (not in `make test`).
fuzz-quick: install
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-20} FUZZ_SECONDS=$${FUZZ_SECONDS:-3600} $(PY) fuzz/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
