# syntax=docker/dockerfile:1
# The base: node:24-slim. The image test builds FROM a stand-in it makes
# (test/image/standin-base.sh) where Docker Hub cannot be reached.
ARG NODE_IMAGE=node:24-slim

# Build stage: compile TypeScript with the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the postinstall (patch-package) patches a profiling tool
# only, and the build needs nothing but tsc. The npm-ca secret is an extra CA
# bundle for a registry behind a TLS-inspecting proxy (as where the image test
# runs: `--secret id=npm-ca,src=/etc/ssl/certs/ca-certificates.crt`); without
# the secret, npm uses Node's own CAs.
RUN --mount=type=secret,id=npm-ca \
    if [ -f /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi; \
    npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
RUN npx tsc -p tsconfig.json

# Runtime stage: production dependencies and the compiled output only.
FROM ${NODE_IMAGE}
# A container listens on every address of its own network; which of it is
# reachable is decided where its ports are published. As the official Redis
# image runs with protected mode off, so does this one (the proxy logs one
# warning line): set ACCESS_FILE (docs/security.md) for credentials, or
# publish on loopback only, as docker-compose.yml does.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PROTECTED_MODE=off \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=npm-ca \
    if [ -f /run/secrets/npm-ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/npm-ca; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workers ./dist/workers
# os.availableParallelism() sees the host's cores, not the container's CPU
# quota: set SHARDS to the quota minus one when you limit CPUs.
USER node
# 9464: the admin listener (/metrics, /healthz, /readyz).
EXPOSE 8080 9464
# Liveness from inside: the slim image has no curl, so Node's fetch. /healthz
# (the process answers), not /readyz: an unhealthy container is one to
# replace, and a Redis outage is not cured by restarting the proxy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.ADMIN_PORT || 9464) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
