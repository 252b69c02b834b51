# Make Your Number: every command developers and CI run.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8501

.PHONY: run test lint unit app e2e bench sample lock clean

# Installs the pinned, hash-checked versions: the runtime lock exactly as the Dockerfile does,
# then the test tools.
$(STAMP): requirements.lock requirements-dev.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --require-hashes -r requirements-dev.lock
	touch $(STAMP)

run: $(STAMP)  ## start the app on http://localhost:$(PORT) with the bundled sample data
	$(PY) -m streamlit run app.py --server.port=$(PORT)

test: lint unit app e2e  ## lint, type-check and run every test (unit, AppTest, browser)

lint: $(STAMP)  ## ruff (style, imports, bugbear) and strict mypy on diagnostics/
	$(PY) -m ruff check .
	$(PY) -m mypy

unit: $(STAMP)  ## unit tests of the diagnostics core
	$(PY) -m pytest tests/unit -q

app: $(STAMP)  ## AppTest tests of every page
	$(PY) -m pytest tests/app -q

e2e: $(STAMP)  ## browser tests in Debian's Chromium (install it with: apt-get install chromium)
	$(PY) -m pytest tests/e2e -q

bench: $(STAMP)  ## benchmarks against their budgets (prints figures and ratios)
	$(PY) -m bench

sample: $(STAMP)  ## regenerate the deterministic sample data in sample_data/
	$(PY) sample_data/generate.py

lock: $(STAMP)  ## re-pin requirements.lock and requirements-dev.lock (after editing requirements*.txt)
	$(PY) -m piptools compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	    --no-emit-index-url --no-emit-find-links -o requirements.lock requirements.txt
	$(PY) -m piptools compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	    --no-emit-index-url --no-emit-find-links -c requirements.lock \
	    -o requirements-dev.lock requirements-dev.txt

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
