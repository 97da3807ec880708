# The course in two commands: `make lab` (set up and start) and `make test` (check everything).
# Every target creates .venv from the lock file first if it is missing, broken or out of date.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed-from-lock
# Three workers on two cores: tests that wait (a server starting, a browser page) leave a core
# idle, and a third worker fills it (measured: 14 min with 3 workers against 17.5 with 2).
PYTEST_WORKERS ?= 3
# `make check` is all computation: one worker per core.
CHECK_WORKERS ?= 2
# One BLAS and OpenMP thread per process in the test runs: the workers (and, in `make test`,
# the kernels and servers they start) already take every core, and a library's second thread
# spins waiting for one. Measured on two busy cores: make check's tests took 90 s of CPU with
# two threads per worker and 60 s with one; the notebook 03 exercise checks alone 25 s and 3 s.
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# The exact versions to install. A scheduled CI job sets LOCK to a file resolved from the newest
# versions pyproject.toml allows; the tests compare the installed versions with the same file.
LOCK ?= requirements.lock
export MLOPS_LOCK_FILE := $(LOCK)
# The oldest Python the course supports (pyproject.toml's requires-python).
MIN_PYTHON := 3.11
PY_OK := import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)

.PHONY: lab test check lint slides e2e screenshots bench bench-class clean lock help FORCE

help:
	@echo "make lab    set up .venv if needed, start the tracking server and JupyterLab"
	@echo "make test   set up .venv if needed, check everything: lint, unit tests, every notebook"
	@echo "            and deck, the browser journey and the class server (about 11 minutes)"
	@echo "make check  the fast check before every commit: lint and the unit tests (about a minute)"
	@echo "make slides build every deck to offline HTML and PDF in slides/_build/"
	@echo "make e2e    walk the student's journey in headless Chromium (part of make test)"
	@echo "make bench  time every notebook, the tracking server and the slowest test files"
	@echo "make bench-class  load-test the class server: 30 and 100 simulated students, 1 and 2"
	@echo "            server processes; writes docs/class-load.json and the table in docs/classroom.md"
	@echo "make lock   re-resolve requirements.lock from pyproject.toml (needs the network)"
	@echo "make clean  remove the course state folder and build outputs (never notebooks)"

# A .venv whose Python is missing, fails to run or is older than $(MIN_PYTHON) (made by another
# Python, or half made by a failed `python3 -m venv`) is rebuilt, whatever the stamp says.
ifneq ($(shell $(BIN)/python -c 'import pip; $(PY_OK)' >/dev/null 2>&1 && echo ok),ok)
$(STAMP): FORCE
endif

# Install the exact versions of $(LOCK) with uv (about 15 s with a warm cache);
# pip is the fallback when uv cannot run on this platform. Bytecode is compiled at install
# (about 13 s once, as pip does by default): otherwise, where PYTHONDONTWRITEBYTECODE is set
# (containers, CI), every kernel, server and test worker compiles MLflow from source again,
# about 1.3 s for `import mlflow.sklearn` and 2.6 s for the tracking server's imports.
$(STAMP): $(LOCK) pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: '$(PYTHON)' was not found. Install Python $(MIN_PYTHON) or newer, then run: make $(or $(MAKECMDGOALS),lab) PYTHON=/path/to/python3"; exit 1; }
	@$(PYTHON) -c '$(PY_OK)' || { echo "make: the course needs Python $(MIN_PYTHON) or newer; '$(PYTHON)' is $$($(PYTHON) -c 'import platform; print(platform.python_version())' 2>&1). Run: make $(or $(MAKECMDGOALS),lab) PYTHON=/path/to/python3.11"; exit 1; }
	@if ! $(BIN)/python -c 'import pip; $(PY_OK)' >/dev/null 2>&1; then \
		if [ -e $(VENV) ]; then echo "make: $(VENV) is broken or made by an old Python; rebuilding it with $(PYTHON)."; fi; \
		rm -rf $(VENV); \
		$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "make: '$(PYTHON) -m venv' failed. On Debian or Ubuntu install python3-venv (sudo apt install python3-venv), then run make again."; exit 1; }; \
	fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24" "uv==$(UV_VERSION)"
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode -r $(LOCK) \
		|| $(BIN)/python -m pip install --disable-pip-version-check -r $(LOCK)
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e . \
		|| $(BIN)/python -m pip install --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

FORCE:

lab: $(STAMP)
	$(BIN)/python -m utils lab

# Lint: ruff, then repeated code (6 lines or more) in utils and benchmarks (utils/duplicates.py),
# then the cap on the length of functions in utils (tests/test_function_length.py, as a script).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check utils tests benchmarks conftest.py
	$(BIN)/python -m utils.duplicates utils benchmarks
	$(BIN)/python tests/test_function_length.py

# Everything: notebooks (nbval), decks, the browser journey and the class server.
test: lint
	$(ONE_THREAD) $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --nbval-lax \
		--durations=40 tests notebooks

# The fast check before every commit: lint, and every test not marked as needing a notebook
# kernel, a browser, PostgreSQL or a server of its own, or 1.5 s or more alone (markers in
# pyproject.toml), with one BLAS and OpenMP thread per process (ONE_THREAD above). Lint runs
# beside the tests at a low priority (nice), so it takes only time a core would be idle (while
# the workers wait for the session's server to start); its output is printed after the tests,
# and the check fails if either fails.
check: $(STAMP)
	@lint_log=$$(mktemp); nice -n 10 $(MAKE) --no-print-directory lint >$$lint_log 2>&1 & lint=$$!; \
	$(ONE_THREAD) $(BIN)/pytest -n $(CHECK_WORKERS) --dist loadfile -q -p no:nbval \
		-m "not kernel and not browser and not postgres and not server and not slow" tests; \
	tests=$$?; wait $$lint; linted=$$?; cat $$lint_log; rm -f $$lint_log; \
	if [ $$linted -ne 0 ]; then echo "make check: lint failed (see above)"; exit 1; fi; \
	exit $$tests

slides: $(STAMP)
	$(BIN)/python slides/build.py

e2e: $(STAMP)
	$(BIN)/pytest tests/test_e2e.py

# Retake the screenshots in docs/screenshots/ (README, the guided MLflow UI tasks, the class
# progress page); slow: it also runs notebooks 05, 06 and 08 on a fresh state.
screenshots: $(STAMP)
	MLOPS_E2E_UPDATE_DOCS=1 $(BIN)/pytest tests/test_e2e.py tests/test_progress_page.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# Writes docs/class-load.json and the table in docs/classroom.md (about 30 minutes on two cores).
bench-class: $(STAMP)
	$(BIN)/python benchmarks/class_load.py --json docs/class-load.json --write-docs $(ARGS)

# Re-resolve the lock for Linux, macOS and Windows at once (uv's universal resolution).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra classroom --universal --python-version 3.11 \
		--no-header -o requirements.lock

# Build outputs go; the state folder .course/ (every run) only after a question, see
# `python -m utils clean --help`: without a terminal it is moved aside, never deleted.
clean:
	@if [ -x $(BIN)/python ] && $(BIN)/python -c "" 2>/dev/null; then \
		$(BIN)/python -m utils clean --state "$(CURDIR)/.course"; \
	elif [ -d .course ]; then \
		echo "make: .course/ (your runs) is left alone: without a working .venv, make clean cannot stop a server that may be using it. Run make lab once first, or move .course away yourself."; \
	fi
	rm -rf _build slides/_build .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
