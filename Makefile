# klimakort — the two commands of the README: `make demo` and `make test`.
# Each creates/updates the local virtual environment itself (idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= build/demo

.PHONY: demo test lint typecheck bench clean venv

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --upgrade pip uv
	@$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/klimakort demo --out $(DEMO_OUT)

# system packages (chromium for the browser test, PostgreSQL + PostGIS for the site store)
# are installed by .ci/*.sh when run as root; the PostGIS test server is started here
test: $(STAMP)
	@bash .ci/system-deps.sh
	$(BIN)/ruff check src api tests benchmarks
	$(BIN)/ruff format --check src api tests benchmarks
	$(BIN)/mypy
	@url="$$(bash .ci/postgis.sh || true)"; \
	if [ -n "$$url" ]; then export "$$url"; fi; \
	$(BIN)/python -m pytest -n 2 -q

bench: $(STAMP)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,bench]'
	$(BIN)/python benchmarks/rainflow.py
	$(BIN)/python benchmarks/sealevel.py
	$(BIN)/python benchmarks/overlay.py
	$(BIN)/python benchmarks/sample_rainflow.py
	$(BIN)/python benchmarks/report.py
	$(BIN)/python benchmarks/tiles.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
