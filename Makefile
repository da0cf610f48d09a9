# Two commands matter: `make run` (the whole stack on the shipped example) and `make test`.
# Everything they need is fetched on first use into git-ignored folders (.venv, .cache).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXAMPLE ?= examples/allestree-woodlands.yaml
export ROPA_CACHE_DIR ?= $(CURDIR)/.cache

# Helm is built from its Go module, pinned, into the cache (no binary downloads on these machines).
HELM_VERSION ?= v3.16.4
HELM := $(ROPA_CACHE_DIR)/bin/helm-$(HELM_VERSION)
export HELM_BIN := $(HELM)

.PHONY: all install run test lint typecheck unit helm clean schema-export bench

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

$(HELM):
	mkdir -p $(ROPA_CACHE_DIR)/bin $(ROPA_CACHE_DIR)/gobuild
	GOBIN=$(ROPA_CACHE_DIR)/gobuild GOFLAGS=-mod=mod go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(ROPA_CACHE_DIR)/gobuild/helm $(HELM)

helm: $(HELM)

run: install
	$(BIN)/ropa dev --example $(EXAMPLE)

lint: install
	$(BIN)/ruff check schema graph services tests
	$(BIN)/ruff format --check schema graph services tests

typecheck: install
	$(BIN)/mypy .

test: install helm lint typecheck
	$(BIN)/pytest

unit: install
	$(BIN)/pytest tests/unit

schema-export: install
	$(BIN)/ropa schema export

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
