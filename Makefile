# Oddstream: `make run` starts the whole system on one machine; `make test` runs the suite.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: install run test test-python test-js lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: install
	mkdir -p .run
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo_data
	@echo
	@echo "  Oddstream        http://127.0.0.1:8000/"
	@echo "  API              http://127.0.0.1:8000/api/matches/"
	@echo "  Admin            http://127.0.0.1:8000/admin/   (admin@oddstream.local / admin-password)"
	@echo "  Flower           http://127.0.0.1:5555/         (ops / ops-password)"
	@echo "  Demo bettor      demo@oddstream.local / demo-password"
	@echo "  Ctrl-C stops every process started here."
	@echo
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

test: install test-python test-js

test-python:
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m workers.embedded_redis with -- $(BIN)/pytest $(PYTEST_ARGS)

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

clean:
	rm -rf $(VENV) .run staticfiles .pytest_cache .mypy_cache .ruff_cache
