# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the dev dependencies.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workers ./workers
RUN npx tsc -p tsconfig.json

# Runtime stage: production dependencies and the compiled output only.
FROM node:24-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/workers ./dist/workers
# os.availableParallelism() sees the host's cores, not the container's CPU
# quota: set SHARDS to the quota minus one when you limit CPUs.
USER node
# 9464: the admin listener (/metrics, /healthz, /readyz).
EXPOSE 8080 9464
CMD ["node", "dist/src/main.js"]
