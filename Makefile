# Oddstream: `make run` starts the whole system on one machine; `make test` runs the suite.
#
# Every Python package comes from uv.lock (exact versions, with hashes). uv itself is
# bootstrapped into .uv/ from PyPI with the interpreter found here, so a fresh machine needs
# only Python >= 3.11 and make.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV_VERSION := 0.13.9
UV := .uv/bin/uv
VENV := .venv
BIN := $(VENV)/bin

export DJANGO_SETTINGS_MODULE ?= config.settings.local
# Use the interpreter above; never download one.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

.PHONY: install check-deps run test test-python test-fast test-js lint format lock bench clean certs validate-deploy

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Oddstream needs Python 3.11 or newer: set PYTHON=/path/to/python3.x")'
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# --compile-bytecode writes every package's .pyc once, at install: where PYTHONDONTWRITEBYTECODE
# is set (CI images often do), Python would otherwise compile some 2,000 modules from source in
# every process it starts (Daphne, workers, manage.py, the tests' stacks), about 3 s of CPU each.
# Runtime + local (honcho, the embedded Redis): what `make run` needs. --inexact keeps the
# dev tools if `make install` put them there.
$(VENV)/.run-installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --inexact --no-group dev --quiet --compile-bytecode
	touch $@

# Everything: runtime, local and dev (tests, linters, browser driver).
$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --quiet --compile-bytecode
	touch $@ $(VENV)/.run-installed

install: $(VENV)/.installed

# The checkout's keys and Flower's password are generated on the first run into
# .run/local-secrets.env (config/local_secrets.py) and kept there.
run: $(VENV)/.run-installed
	mkdir -p .run
	@echo "Keys: $$($(BIN)/python -m config.local_secrets)"
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo_data
	@echo
	@echo "  Oddstream        http://127.0.0.1:8000/"
	@echo "  API              http://127.0.0.1:8000/api/matches/"
	@echo "  Admin            http://127.0.0.1:8000/admin/   (admin@oddstream.local / admin-password)"
	@echo "  Flower           http://127.0.0.1:5555/         (ops / $$($(BIN)/python -m config.local_secrets FLOWER_PASSWORD))"
	@echo "  Demo bettor      demo@oddstream.local / demo-password"
	@echo "  Demo punter      punter@oddstream.local / punter-password   (bets in play by itself)"
	@echo "  Ctrl-C stops every process started here."
	@echo
	FLOWER_BASIC_AUTH="$${FLOWER_BASIC_AUTH:-ops:$$($(BIN)/python -m config.local_secrets FLOWER_PASSWORD)}" \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

test: install test-python test-js

# The race tests (marked `postgres`) skip on SQLite; after a SQLite run they run again on the
# PostgreSQL at POSTGRES_RACES_URL when one answers, else one line says they were skipped.
POSTGRES_RACES_URL ?= postgres://postgres@127.0.0.1:5432/oddstream
export POSTGRES_RACES_URL

test-python:
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m workers.embedded_redis with -- $(BIN)/pytest $(PYTEST_ARGS)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m workers.embedded_redis with -- $(BIN)/python -m tests.postgres_races $(PYTEST_ARGS)

# The inner loop: unit tests only, with no Redis, Daphne or Celery process (see
# config/settings/test_fast.py); tests marked integration, browser or redis are left out.
test-fast: install
	DJANGO_SETTINGS_MODULE=config.settings.test_fast $(BIN)/pytest -m "not integration and not browser and not redis" $(PYTEST_ARGS)

test-js:
	@if command -v node >/dev/null 2>&1; then node --test frontend/tests/; else echo "node not found: JavaScript tests skipped"; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m workers.embedded_redis with -- $(BIN)/python -m bench $(BENCH)

# CI: fail when uv.lock and pyproject.toml disagree, or when installed packages conflict.
check-deps: $(VENV)/.installed
	$(UV) lock --check
	$(UV) pip check --python $(BIN)/python

# After editing pyproject.toml's dependencies: re-resolve uv.lock (commit both).
lock: $(UV)
	$(UV) lock

clean:
	rm -rf $(VENV) .uv .run staticfiles .pytest_cache .mypy_cache .ruff_cache

# A self-signed certificate for a local try of the compose deployment (nginx reads
# deploy/certs/tls.crt and tls.key). Production puts the real pair there (TLS_CERT_DIR).
CERT_HOST ?= localhost
certs: deploy/certs/tls.crt
deploy/certs/tls.crt:
	mkdir -p deploy/certs
	openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$(CERT_HOST)" \
		-addext "subjectAltName=DNS:$(CERT_HOST),DNS:localhost,IP:127.0.0.1" \
		-keyout deploy/certs/tls.key -out deploy/certs/tls.crt
	chmod 600 deploy/certs/tls.key

# The deployment files, checked without a Docker engine: the compose file against the
# compose-spec schema and its rules, nginx -t on both sites, systemd-analyze verify on the units.
validate-deploy: install
	$(BIN)/pytest -q tests/deploy $(PYTEST_ARGS)
