# syntax=docker/dockerfile:1
#
# One image for the registry, the notifier and the `ropa` CLI; the command picks which:
#
#   docker run IMAGE                                               # the registry (the default CMD)
#   docker run IMAGE serve notifier --host 0.0.0.0 --port 8001     # the webhook notifier
#   docker run IMAGE migrate                                       # apply database migrations
#   docker run -v $PWD/ropa.yaml:/ropa.yaml IMAGE apply /ropa.yaml --actor ci
#
# Build: docker build -t ropa-registry:0.1.0 .
# The final stage holds the Python runtime and a virtualenv, nothing else: no compiler, no pip
# cache, no sources. It runs as an unprivileged numeric user, so Kubernetes can verify
# runAsNonRoot, and writes nothing outside /tmp (mount an emptyDir there with a read-only root).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: install the locked dependencies and the distribution into a virtualenv ----
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    UV_PROJECT_ENVIRONMENT=/opt/ropa \
    UV_PYTHON_DOWNLOADS=never \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1

WORKDIR /src

# uv, pinned with its hashes; it installs everything else exactly as uv.lock says (versions and
# hashes), the same lock `make install` and CI use.
COPY tools/uv-requirements.txt ./tools/
RUN pip install --no-cache-dir --require-hashes -r tools/uv-requirements.txt

# The locked dependencies first, the sources after: that layer stays cached while the code changes.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-install-project --python /usr/local/bin/python3

# Node and npm (Debian's) to build the console's front-end files from its package-lock.json;
# they stay in this stage: the runtime gets only the copied files inside the package.
# jemalloc (Debian's) goes into the virtualenv's lib/, where `ropa serve` finds it and runs on
# it (services/cli/allocator.py): the runtime stage installs nothing. It needs only libc,
# libgcc and libstdc++, which the slim base has.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm libjemalloc2 \
    && mkdir -p /opt/ropa/lib \
    && cp /usr/lib/*-linux-gnu/libjemalloc.so.2 /opt/ropa/lib/ \
    && rm -rf /var/lib/apt/lists/*

COPY schema ./schema
COPY graph ./graph
COPY services ./services

# The console's vendor files (GraphiQL, React, graphql-ws, cytoscape), as `make console` does;
# no dev dependencies (axe-core is for the tests), no node_modules left behind.
WORKDIR /src/services/registry/console
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error \
    && node build.mjs \
    && rm -rf node_modules
WORKDIR /src

# A regular (non-editable) install: the virtualenv carries the packages, not a link to /src.
RUN uv sync --locked --no-editable --python /usr/local/bin/python3 \
    && /opt/ropa/bin/ropa --help >/dev/null \
    && /opt/ropa/bin/ropa serve --help >/dev/null \
    && /opt/ropa/bin/ropa migrate --help >/dev/null \
    && /opt/ropa/bin/ropa apply --help >/dev/null

# ---- runtime: the slim base, the virtualenv, an unprivileged user ----
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="ropa-registry" \
      org.opencontainers.image.description="Registry of Records of Processing Activities (UK GDPR Article 30) on Neo4j, with a GraphQL API" \
      org.opencontainers.image.licenses="Apache-2.0"

RUN groupadd --system --gid 10001 ropa \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin ropa

COPY --from=build /opt/ropa /opt/ropa

ENV PATH=/opt/ropa/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ROPA_ENV=production

WORKDIR /tmp
USER 10001:10001

# 8000: registry (GraphQL, WebSocket subscriptions, Atom feeds); 8001: notifier health.
EXPOSE 8000 8001

ENTRYPOINT ["ropa"]
CMD ["serve", "registry", "--host", "0.0.0.0", "--port", "8000"]
