# bnviz: `make run` starts the lab, `make test` runs every test.
# Both create the virtual environment in .venv on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run serve test test-fast bench bench-page bench-load gallery fixtures clean mutants

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade --quiet pip

$(VENV)/.runtime: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.runtime $@

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

# Regenerate the PyTorch reference fixtures (needs: pip install torch==2.13.0).
fixtures: $(VENV)/.dev
	$(BIN)/python scripts/make_torch_fixtures.py

# Mutation testing (not part of `make test`): mutants of run, recording, evaluation,
# running, tables, inference and landscape against the value tests, two at a time.
# Prints the score per module and the survivors; fails under 90 % killed.
$(VENV)/.mutants: requirements-mutants.txt requirements-dev.txt requirements.txt | $(BIN)/activate
	$(BIN)/pip install --quiet -r requirements-mutants.txt
	touch $@

mutants: $(VENV)/.mutants
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 > /dev/null || true
	$(BIN)/python scripts/mutation_score.py 90

clean:
	rm -rf $(VENV) .pytest_cache artifacts mutants
