# bnviz: `make run` starts the lab, `make test` runs every test.
# Both create the virtual environment in .venv on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run serve test test-fast bench bench-page bench-load gallery fixtures verdicts clean mutants mutants-list lock

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip

# The runtime packages are exactly those of requirements.lock, each checked against its hash: the tests
# run the set that the image ships. The test-only tools (requirements-dev.txt) come on top of it.
$(VENV)/.runtime: requirements.lock | $(BIN)/activate
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt requirements.lock | $(BIN)/activate
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet -r requirements-dev.txt
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock    # a test tool moved no locked pin
	$(BIN)/pip check
	touch $(VENV)/.runtime $@

# requirements.lock: every package the hosted app installs, pinned, with the hashes of all its files
# (Python 3.11 and later, every platform: the image's linux/amd64 and linux/arm64 among them).
# Compiled from requirements-lock.in (requirements.txt's ranges, and numba); `make lock` after
# changing either, then run the tests on the new set.
UV_VERSION := 0.13.9
$(VENV)/.uv: | $(BIN)/activate
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	touch $@

lock: $(VENV)/.uv
	$(BIN)/uv pip compile requirements-lock.in --universal --python-version 3.11 --generate-hashes \
		--custom-compile-command "make lock" --quiet -o requirements.lock

run: $(VENV)/.runtime
	$(BIN)/streamlit run app.py --server.port $(PORT)

# Production: REPLICAS Streamlit processes (each warmed at start) behind nginx on PORT,
# with session affinity and websocket proxying. One replica runs without nginx.
REPLICAS ?= 2
serve: $(VENV)/.runtime
	bash scripts/ensure_nginx.sh
	$(BIN)/python -m bnviz.ui.serve --replicas $(REPLICAS) --port $(PORT)

# Browser tests need Chromium: /usr/bin/chromium (Debian package `chromium`).
# scripts/ensure_chromium.sh installs it when run as root, and the tests
# skip with a message when it cannot be had (never in CI, which sets CI=true).
test: $(VENV)/.dev
	bash scripts/ensure_chromium.sh
	bash scripts/ensure_nginx.sh
	$(BIN)/python -m pytest

test-fast: $(VENV)/.dev
	$(BIN)/python -m pytest -m "not browser"

bench: $(VENV)/.dev
	$(BIN)/python benchmarks/speed.py
	$(BIN)/python benchmarks/engine.py

bench-page: $(VENV)/.dev
	bash scripts/ensure_chromium.sh
	$(BIN)/python benchmarks/page.py

# A classroom against the lab: websocket visitors, one process and 2 replicas behind nginx.
bench-load: $(VENV)/.dev
	bash scripts/ensure_nginx.sh
	$(BIN)/python benchmarks/load.py

# Every figure of a default run as HTML and PNG under artifacts/gallery, to look at.
gallery: $(VENV)/.dev
	bash scripts/ensure_chromium.sh
	$(BIN)/python scripts/figure_gallery.py

# Measure every lesson's verdicts and ship them (bnviz/datasets/verdicts.json.gz): after changing what
# a verdict depends on (the engine, the lessons, the data), as the tests then say.
verdicts: $(VENV)/.dev
	$(BIN)/python scripts/make_verdicts.py

# Regenerate the PyTorch reference fixtures (needs: pip install torch==2.13.0).
fixtures: $(VENV)/.dev
	$(BIN)/python scripts/make_torch_fixtures.py

# Mutation testing (not part of `make test`): mutants of run, recording, evaluation,
# running, tables, inference and landscape against the value tests, two at a time.
# Prints the score per module and the survivors; fails under 90 % killed.
$(VENV)/.mutants: requirements-mutants.txt $(VENV)/.dev
	$(BIN)/pip install --quiet -r requirements-mutants.txt
	touch $@

# `make mutants MODULE=config`: one module (bnviz/config.py; figures.curves for bnviz/figures/curves.py)
# against its own tests (the table MODULES in scripts/mutants.py), one mutant at a time, in
# build/mutants/config/; `make mutants-list` shows the table.
mutants: $(VENV)/.mutants
ifdef MODULE
	$(BIN)/python scripts/mutants.py $(MODULE)
else
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 > /dev/null || true
	$(BIN)/python scripts/mutation_score.py 90
endif

mutants-list:
	$(BIN)/python scripts/mutants.py --list

clean:
	rm -rf $(VENV) .pytest_cache artifacts mutants build/mutants
