# Token Offset — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000

.PHONY: run test lint format bench backtest clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $(STAMP)

## run: the app on http://127.0.0.1:$(PORT) with a worker, a sampling worker, beat and the vendor sandbox
run: $(STAMP)
	PORT=$(PORT) scripts/run.sh

## test: lint, checks and the whole suite on throwaway PostgreSQL and Redis
test: $(STAMP)
	WITH_CHROMIUM=1 scripts/services.sh scripts/check.sh $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/ .pytest_cache .ruff_cache

## bench: sampling and load figures on throwaway PostgreSQL and Redis (var/bench.json);
##        SCENARIOS="dashboard_load weekly_fanout" runs only those
bench: $(STAMP)
	TOKENOFFSET_ENCRYPTION_KEYS="bench:$$($(BIN)/python -c 'import base64,os;print(base64.b64encode(os.urandom(32)).decode())')" \
	  WITH_WRK=1 scripts/services.sh $(BIN)/python -m bench $(SCENARIOS)

## backtest: the projection method against synthetic organisations (the table on /docs/methodology)
backtest: $(STAMP)
	$(BIN)/python -m estimates.backtest
