# Two commands matter: `make run` (the whole stack on the shipped example) and `make test`.
# Everything they need is fetched on first use into git-ignored folders (.venv, .cache).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Empty: `ropa dev` loads every examples/*.yaml; EXAMPLE="a.yaml b.yaml" loads those only.
EXAMPLE ?=
export ROPA_CACHE_DIR ?= $(CURDIR)/.cache

# Dependencies are installed from uv.lock (exact versions and hashes), by uv, itself installed
# from tools/uv-requirements.txt (pinned with hashes). uv uses the Python 3.11 it finds, never
# a downloaded one.
UV_HOME := $(ROPA_CACHE_DIR)/uv
UV := $(UV_HOME)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

# Helm is built from its Go module, pinned, into the cache (no binary downloads on these machines).
HELM_VERSION ?= v3.16.4
# The Kubernetes minor version of helm's k8s.io/client-go (v0.31 for helm v3.16): helm's own
# Makefile links it in, and `helm template` without --kube-version assumes it (unlinked, v1.20,
# which the chart's kubeVersion refuses). Change the two together.
HELM_K8S_MINOR ?= 31
HELM := $(ROPA_CACHE_DIR)/bin/helm-$(HELM_VERSION)-k8s1.$(HELM_K8S_MINOR)
export HELM_BIN := $(HELM)
HELM_LDFLAGS := -s -w \
	-X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	-X helm.sh/helm/v3/internal/version.metadata= \
	-X helm.sh/helm/v3/internal/version.gitTreeState=clean \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
	-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_K8S_MINOR) \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
	-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_K8S_MINOR)

# The OpenID provider that the sign-in tests start, and `ropa dev` when Node is there: panva's
# oidc-provider under Node, pinned by tools/oidc-provider/package-lock.json, installed by npm ci.
OIDC_PROVIDER := tools/oidc-provider
OIDC_STAMP := $(OIDC_PROVIDER)/node_modules/.installed-stamp


.PHONY: all install lock run test coverage lint typecheck unit helm clean schema-export bench oidc-provider console

# The console's front-end files (GraphiQL, graphql-ws, cytoscape; axe-core for the browser
# tests) come from npm, pinned by package-lock.json, and are copied into its static/vendor/.
CONSOLE := services/registry/console
CONSOLE_STAMP := $(CONSOLE)/.npm-stamp

all: test

$(UV): tools/uv-requirements.txt
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/python -m pip install --quiet --disable-pip-version-check \
		--require-hashes -r tools/uv-requirements.txt
	touch $(UV)

# --locked: install exactly what uv.lock says, and fail (rather than re-resolve) when pyproject.toml
# and the lock disagree (run `make lock` after changing the dependencies).
$(STAMP): pyproject.toml uv.lock $(UV)
	$(UV) sync --locked --extra dev --python $(PYTHON)
	touch $(STAMP)

$(CONSOLE_STAMP): $(CONSOLE)/package.json $(CONSOLE)/package-lock.json $(CONSOLE)/build.mjs
	cd $(CONSOLE) && npm ci --prefer-offline --no-audit --no-fund --loglevel=error && node build.mjs
	touch $(CONSOLE_STAMP)

console: $(CONSOLE_STAMP)

install: $(STAMP) $(CONSOLE_STAMP)

# Re-resolve uv.lock after a change to pyproject.toml's dependencies (versions already locked
# stay); `make lock LOCK_FLAGS=--upgrade` moves everything to the newest allowed versions and
# `LOCK_FLAGS='--upgrade-package NAME'` one package.
lock: $(UV)
	$(UV) lock --python $(PYTHON) $(LOCK_FLAGS)

$(HELM):
	mkdir -p $(ROPA_CACHE_DIR)/bin $(ROPA_CACHE_DIR)/gobuild
	GOBIN=$(ROPA_CACHE_DIR)/gobuild GOFLAGS=-mod=mod go install -trimpath \
		-ldflags '$(HELM_LDFLAGS)' helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	mv $(ROPA_CACHE_DIR)/gobuild/helm $(HELM)

helm: $(HELM)

$(OIDC_STAMP): $(OIDC_PROVIDER)/package.json $(OIDC_PROVIDER)/package-lock.json
	npm ci --prefix $(OIDC_PROVIDER) --no-audit --no-fund --loglevel=error
	touch $(OIDC_STAMP)

oidc-provider: $(OIDC_STAMP)

run: install
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory oidc-provider; \
	else echo "npm not found: make run starts without the development sign-in (bearer tokens only)"; fi
	$(BIN)/ropa dev $(foreach e,$(EXAMPLE),--example $(e))

lint: install
	$(BIN)/ruff check schema graph services tests bench
	$(BIN)/ruff format --check schema graph services tests bench

typecheck: install
	$(BIN)/mypy .

test: install helm oidc-provider lint typecheck
	$(BIN)/pytest

# The whole suite under coverage, child processes included (see [tool.coverage] in pyproject).
coverage: install helm oidc-provider
	rm -rf $(ROPA_CACHE_DIR)/coverage && mkdir -p $(ROPA_CACHE_DIR)/coverage
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage combine -q
	$(BIN)/coverage report
	$(BIN)/coverage html -q -d $(ROPA_CACHE_DIR)/coverage/html
	@echo "HTML report: $(ROPA_CACHE_DIR)/coverage/html/index.html"

unit: install
	$(BIN)/pytest tests/unit

# A short run of every benchmark (bench/) and one table of the speed targets; see bench/__init__.py.
bench: install
	$(BIN)/python -m bench

schema-export: install
	$(BIN)/ropa schema export

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
