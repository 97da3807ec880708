# The course in two commands: `make lab` (set up and start) and `make test` (check everything).
# Every target creates .venv from the lock file first if it is missing or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed-from-lock
PYTEST_WORKERS ?= 2

.PHONY: lab test lint slides e2e screenshots bench bench-class clean lock help

help:
	@echo "make lab    set up .venv if needed, start the tracking server and JupyterLab"
	@echo "make test   set up .venv if needed, lint, run unit tests and every notebook (nbval)"
	@echo "make slides build every deck to offline HTML and PDF in slides/_build/"
	@echo "make e2e    walk the student's journey in headless Chromium (part of make test)"
	@echo "make bench  time and measure every notebook and the tracking server"
	@echo "make bench-class  load-test 30 simulated students on SQLite and PostgreSQL servers"
	@echo "make lock   re-resolve requirements.lock from pyproject.toml (needs the network)"
	@echo "make clean  remove the course state folder and build outputs (never notebooks)"

# Install the exact versions of requirements.lock with uv (about 10 s with a warm cache);
# pip is the fallback when uv cannot run on this platform.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24" "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --python $(BIN)/python -r requirements.lock \
		|| $(BIN)/python -m pip install --disable-pip-version-check -r requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e . \
		|| $(BIN)/python -m pip install --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/python -m utils lab

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check utils tests benchmarks conftest.py

test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --nbval-lax tests notebooks

slides: $(STAMP)
	$(BIN)/python slides/build.py

e2e: $(STAMP)
	$(BIN)/pytest tests/test_e2e.py

# Retake the README's two screenshots (docs/screenshots/) from a passing journey.
screenshots: $(STAMP)
	MLOPS_E2E_UPDATE_DOCS=1 $(BIN)/pytest tests/test_e2e.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

bench-class: $(STAMP)
	$(BIN)/python benchmarks/class_load.py $(ARGS)

# Re-resolve the lock for Linux, macOS and Windows at once (uv's universal resolution).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--no-header -o requirements.lock

clean:
	-@test -x $(BIN)/python && $(BIN)/python -m utils server stop || true
	rm -rf .course _build slides/_build .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
