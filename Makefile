# qdperf — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format install migrate demo scale bench worker beat collectstatic permissions-doc clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(STAMP)

install: $(STAMP)

# Zero-setup: SQLite file, Celery eager, demo data, http://127.0.0.1:8000
run: export DEBUG ?= 1
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The whole suite. PostgreSQL when DATABASE_URL points to one (CI, docker-compose); SQLite otherwise.
test: $(STAMP)
	@if [ -z "$$DATABASE_URL" ]; then echo "注意：未设置 DATABASE_URL，测试使用 SQLite（CI 使用 PostgreSQL）。"; fi
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

scale: migrate
	$(BIN)/python manage.py seed_scale

# Benchmarks print figures; run them against PostgreSQL (DATABASE_URL), they seed the scale data once.
bench: $(STAMP)
	$(BIN)/python bench/bench_foundation.py
	$(BIN)/python bench/bench_indicators.py
	$(BIN)/python bench/bench_targets.py
	$(BIN)/python bench/bench_targets_excel.py
	$(BIN)/python bench/bench_monitoring.py
	$(BIN)/python bench/bench_monitoring_import.py
	$(BIN)/python bench/bench_evaluations.py
	$(BIN)/python bench/bench_npc.py
	$(BIN)/python bench/bench_dashboard.py
	$(BIN)/python bench/bench_public.py
	$(BIN)/python bench/bench_reminders.py
	$(BIN)/python bench/bench_assessment.py

# Background work without Docker (needs REDIS_URL): one terminal each.
worker: $(STAMP)
	$(BIN)/celery -A qdperf worker -l info

beat: $(STAMP)
	$(BIN)/celery -A qdperf beat -l info

collectstatic: $(STAMP)
	$(BIN)/python manage.py collectstatic --noinput

permissions-doc: $(STAMP)
	DEBUG=1 $(BIN)/python manage.py permissions_doc > docs/permissions.md

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache .ruff_cache
