# syntax=docker/dockerfile:1
# One image for every sagastream role (docker-compose.yml builds it once as sagastream:local); the Compose
# service picks the role with its command (`watcher`, `worker`, `admin`, `demo`); without one it runs every
# role in one process (`start`). It runs this repository's sagas/. For your own sagas and their dependencies,
# build an image from your project instead, with sagastream as an npm dependency (README, "Docker Compose").

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The project needs no install scripts, so none run here either (same as a developer machine).
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts
# The OpenTelemetry SDK and its OTLP/HTTP trace exporters, optional peers of sagastream, at the versions the tests
# ran with: a role exports its traces when OTEL_EXPORTER_OTLP_ENDPOINT is set (README, "Tracing").
RUN npm install --save-prod --omit=dev --ignore-scripts \
      $(node -p "['sdk-node','exporter-trace-otlp-proto','exporter-trace-otlp-http'].map((name) => '@opentelemetry/' + name + '@' + require('./package.json').devDependencies['@opentelemetry/' + name]).join(' ')")

FROM node:24-slim AS runtime
ENV NODE_ENV=production
# This repository's example sagas: the roles run only the sagas module that SAGAS (or --sagas-module) names.
ENV SAGAS=/app/dist/sagas/index.js
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The official image ships an unprivileged `node` user; the app files stay root-owned and read-only to it.
USER node
ENTRYPOINT ["node", "bin/sagastream.js"]
CMD ["start"]
