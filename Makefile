# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint bench bench-backup bench-retention bench-fixity bench-close clean system-deps

# Independent PDF checkers and the browser the tests use (Debian packages).
SYSTEM_TOOLS := pdftotext pdffonts pdfsig pdftoppm qpdf zbarimg certutil chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

## demo: the main job end to end on the embedded defaults (SQLite and files under ./var)
demo: $(VENV)/.installed
	$(BIN)/archive demo

system-deps:
	@for t in $(SYSTEM_TOOLS); do command -v $$t >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "Installing poppler-utils, qpdf, zbar-tools, libnss3-tools (independent checkers) and chromium (browser tests)"; \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq poppler-utils qpdf zbar-tools libnss3-tools chromium; \
	fi

## test: the whole suite (SQLite, PostgreSQL, a real SeaweedFS S3 server, PDF checkers)
test: $(VENV)/.installed-test system-deps
	$(BIN)/python -m pytest -n auto --dist loadfile --durations=20

lint: $(VENV)/.installed-test
	$(BIN)/ruff check archive_service cli signing retention tests bench

## bench: import + snapshot of the whole demo school, seconds and peak memory
bench: $(VENV)/.installed
	$(BIN)/python bench/bench_import_snapshot.py
	$(BIN)/python bench/bench_import_snapshot.py --period Q1
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_sign.py

## bench-backup: 1 GiB archive-like dataset, our backup/verify/restore beside restic (Debian package)
bench-backup: $(VENV)/.installed
	@command -v restic >/dev/null || { sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$sudo apt-get update -qq && $$sudo apt-get install -y -qq restic; }
	$(BIN)/python bench/bench_backup.py

## bench-retention: retention plan over 1,000,000 archived items on PostgreSQL (seconds, peak memory)
bench-retention: $(VENV)/.installed
	$(BIN)/python bench/bench_retention.py

## bench-fixity: a full fixity pass over a generated region beside sha256sum
bench-fixity: $(VENV)/.installed
	$(BIN)/python bench/bench_fixity.py

## bench-close: a generated region's period close inline and with 1, 2, 4 queue workers (PostgreSQL)
bench-close: $(VENV)/.installed
	$(BIN)/python bench/bench_close.py

clean:
	rm -rf $(VENV) var .pytest_cache *.egg-info
