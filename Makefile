# Frontier Review Workstation. Quick start: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
# Python >= 3.12 is required (ARCHITECTURE.md: PySide6 on 3.11 corrupts None's refcount).
# Looked up only when the venv is (re)built, and then once: the probe starts up to four Pythons (pyenv shims
# cost ~0.3 s of CPU each), which `make test`, `make lint` and a `make run` without a display do not need.
PYTHON_BOOT = $(eval PYTHON_BOOT := $(shell for p in python3.13 python3.12 $(HOME)/.pyenv/versions/3.13*/bin/python3.13 \
	$(HOME)/.pyenv/versions/3.12*/bin/python3.12; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; \
	then command -v $$p; break; fi; done))$(PYTHON_BOOT)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# inspect-ai and lm-eval for the fixtures and benchmarks (`make fixture-venv`)
FIXVENV ?= .fixvenv
export QT_QPA_PLATFORM ?= offscreen
ARGS ?=
# pytest-xdist workers for `make test` (one per core; each test file stays on one worker). 0 = in-process.
TEST_WORKERS ?= auto

.PHONY: run demo display desktop-libs test lint unit bench installer screenshots fixtures fixture-venv clean

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON_BOOT)" ]; then echo "error: Python 3.12 or 3.13 is required and neither was found (python3.13/python3.12 on PATH or under ~/.pyenv)." >&2; exit 1; fi
	@test -x $(PY) || $(PYTHON_BOOT) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# `display` comes first: on a machine without a display nothing is installed before saying so.
run: display $(STAMP) desktop-libs
	env -u QT_QPA_PLATFORM $(VENV)/bin/frontier-review gui $(ARGS)

demo: display $(STAMP) desktop-libs
	env -u QT_QPA_PLATFORM $(VENV)/bin/frontier-review gui --demo $(ARGS)

# A window needs a display (X11 or Wayland) on Linux; other systems always have one.
display:
	@if [ "$$(uname -s)" = Linux ] && [ -z "$${DISPLAY:-}" ] && [ -z "$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "make run: no display here (DISPLAY and WAYLAND_DISPLAY are unset); run it from a desktop session, or headless with: xvfb-run make run" >&2; \
	  exit 1; fi

# The X11 libraries Qt's xcb platform plugin needs (a desktop has them; a fresh server may not).
desktop-libs:
	@bash installer/desktop-libs.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check app ui storage reports tests bench build_installer.py
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Progress by file (one line per test file, with the running percentage), the slowest tests at the end.
# Bytecode caches are written even where PYTHONDONTWRITEBYTECODE is set: otherwise every xdist worker
# re-rewrites the asserts of every test module and every subprocess the tests start recompiles the
# app, on every run (docs/PERFORMANCE.md, "Reliability, unit and collection (stop 23)"). tests/precompile.py
# writes them first, on both cores: in a fresh clone each worker would otherwise compile and rewrite the same files.
# The tests' folders go to memory where there is room (tests/memory_fs.py: the product's fsyncs
# otherwise idle the workers; 256 -> 243 s for the whole suite, docs/PERFORMANCE.md).
TEST_MINUTES ?= 4
test: lint
	@echo "Running the test suite: about $(TEST_MINUTES) minutes on a 2-core machine; progress is shown per file."
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m tests.precompile
	tmp=$$($(PY) -m tests.memory_fs); env -u PYTHONDONTWRITEBYTECODE $${tmp:+TMPDIR=$$tmp} $(PY) -m pytest -p no:randomly -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=5 $(ARGS)

bench: $(STAMP) $(FIXVENV)/.installed
	for b in bench/bench_*.py; do FRW_INSPECT_PYTHON=$${FRW_INSPECT_PYTHON:-$(abspath $(FIXVENV))/bin/python} $(PY) $$b || exit 1; done

# Every picture the docs show: the screens (offscreen, on a temporary demo workstation) and the
# sample report's pages (pdftoppm).
screenshots: $(STAMP)
	$(PY) -m ui.screenshots docs/screenshots
	$(PY) -m reports.page_shots docs/screenshots

# inspect-ai and lm-eval, which write the fixtures and the benchmarks' logs, in a venv of their own
# (tests/fixtures/requirements.txt): the product never imports them. The benchmarks find it here
# (FRW_INSPECT_PYTHON names another).
$(FIXVENV)/.installed: tests/fixtures/requirements.txt
	@if [ -z "$(PYTHON_BOOT)" ]; then echo "error: Python 3.12 or 3.13 is required and neither was found." >&2; exit 1; fi
	@test -x $(FIXVENV)/bin/python || $(PYTHON_BOOT) -m venv $(FIXVENV)
	$(FIXVENV)/bin/python -m pip install --quiet -r tests/fixtures/requirements.txt
	@touch $@

fixture-venv: $(FIXVENV)/.installed

# Rewrites the committed fixtures with the real tools (`make fixtures ARGS=inspect` for one kind).
fixtures: $(FIXVENV)/.installed
	$(FIXVENV)/bin/python tests/fixtures/make_fixtures.py $(ARGS)

# Release build: `make installer SIGNING_KEY=key.pem SIGNING_CERT=cert.pem` (docs/INSTALL.md).
# Without a key the package is marked unsigned and `verify` on the workstation refuses it.
DIST ?= dist
installer: $(STAMP)
	$(PY) build_installer.py lock --output $(DIST)/requirements.lock
	$(PY) build_installer.py wheelhouse --lock $(DIST)/requirements.lock --dest $(DIST)/wheelhouse
	$(PY) build_installer.py package --wheelhouse $(DIST)/wheelhouse --lock $(DIST)/requirements.lock \
		--output-dir $(DIST) $(if $(SIGNING_KEY),--signing-key $(SIGNING_KEY) --signing-cert $(SIGNING_CERT),--unsigned)

clean:
	rm -rf $(VENV) $(FIXVENV) build dist *.egg-info .mypy_cache .ruff_cache
