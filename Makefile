# leadscore — the two commands: `make demo` and `make test`. Both create .venv and install
# the locked dependencies first (skipped when requirements.txt and pyproject.toml are
# unchanged since the last install).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

DEMO_LEADS ?= 20000
DEMO_SEED ?= 42
DEMO_FAULTS ?= 0.002
# drift injected from this date on (empty: none), so the monitoring marts have something to find
DEMO_DRIFT ?= 2026-06-01
DEMO_BACKFILL_WEEKS ?= 3
DEMO_BACKFILL_MATURED ?= 2
RAW_DIR ?= data/raw

export DBT_PROFILES_DIR := $(CURDIR)
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export DO_NOT_TRACK := 1
export LEADSCORE_RAW_DIR ?= $(RAW_DIR)
export LEADSCORE_DB ?= leadscore.duckdb
export LEADSCORE_EXPORT_DIR ?= exports

.PHONY: demo test install lint unit e2e data backfill build report bench serve clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# Demo data from our own generator (deterministic); regenerated only when missing.
data: $(STAMP)
	@if [ -f $(LEADSCORE_RAW_DIR)/leads.parquet ]; then \
		echo "demo data already in $(LEADSCORE_RAW_DIR) (delete it to regenerate)"; \
	else \
		$(BIN)/leadscore generate --leads $(DEMO_LEADS) --seed $(DEMO_SEED) \
			--faults $(DEMO_FAULTS) --out $(LEADSCORE_RAW_DIR) \
			$(if $(DEMO_DRIFT),--drift-after $(DEMO_DRIFT)); \
	fi

build: $(STAMP)
	$(BIN)/leadscore build

# Scoring runs before the latest data, oldest first (dates already scored are skipped): two
# whose conversion window has matured (model_performance), then weekly ones (score_changes).
backfill: $(STAMP)
	$(BIN)/leadscore backfill --weeks $(DEMO_BACKFILL_WEEKS) \
		--matured-runs $(DEMO_BACKFILL_MATURED)

# The HTML report, from the Parquet exports only (runs while dbt holds the database).
report: $(STAMP)
	$(BIN)/leadscore report --exports $(LEADSCORE_EXPORT_DIR)

# The real-time API on 127.0.0.1:$(SERVE_PORT), serving what the last build exported
# (docs/serving.md); it picks up the next build's export by itself.
SERVE_PORT ?= 8000
serve: $(STAMP)
	$(BIN)/leadscore serve --port $(SERVE_PORT) --exports $(LEADSCORE_EXPORT_DIR)

# Benchmarks at 100k and 1M leads (not part of make test; about an hour on 2 cores): writes
# BENCHMARKS.md, keeping its History. Data and databases go to data/bench/ (git-ignored).
BENCH_SIZES ?= 100000,1000000
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --sizes $(BENCH_SIZES)
	$(BIN)/python -m benchmarks.serving --leads 1000000

demo: data
	$(MAKE) backfill
	$(MAKE) build
	$(MAKE) report
	$(BIN)/leadscore summary

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	LEADSCORE_TARGET=lint $(BIN)/sqlfluff lint models tests/singular analyses

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not e2e"

e2e: $(STAMP)
	$(BIN)/python -m pytest -m e2e

# two workers, one test file each at a time (a file's shared builds stay in one process):
# the end-to-end builds wait on single-threaded steps, so two at once use both cores
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile

clean:
	rm -rf target logs $(LEADSCORE_DB) $(LEADSCORE_EXPORT_DIR)
