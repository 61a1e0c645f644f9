# syntax=docker/dockerfile:1
# The mrcd worker image (docker-compose.yml builds it; docs/operations.md, "Running with
# docker compose"). Stages: `deps` installs the production dependencies alone, `build` adds
# the sources and bundles the workflow code and the CLI ahead of time, and the runtime gets
# the dependencies, the sources (the worker runs them through tsx, a production dependency,
# like `npm run worker`) and the two bundles, and runs as the non-root `node`.
# The bundlers are production dependencies (@temporalio/worker's webpack, esbuild), so the
# dev tools (typescript, eslint, playwright-core, vega, ...) are never installed. npm's
# install scripts are skipped: the project's postinstall fetches the Temporal dev binaries
# (not needed here) and builds the CLI (done below); no dependency needs its own.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM deps AS build
COPY tsconfig.json ./
COPY scripts/ scripts/
COPY plan/ plan/
COPY domain/ domain/
COPY workflows/ workflows/
COPY activities/ activities/
COPY common/ common/
COPY worker/ worker/
COPY client/ client/
COPY cli/ cli/
COPY dev/ dev/
COPY bin/ bin/
# MRCD_WORKFLOW_BUNDLE: the worker starts without webpack. dist/mrcd.js: the fast CLI.
RUN node scripts/bundle-workflows.js dist/workflow-bundle.js && node scripts/build-cli.js

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    MRCD_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
# Owned by root, read-only to the worker. The sources come from the build stage, so the
# CLI bundle's record of its inputs matches them and bin/mrcd.js runs the bundle.
COPY --from=deps /app/node_modules/ node_modules/
COPY --from=build /app/package.json /app/tsconfig.json ./
COPY --from=build /app/plan/ plan/
COPY --from=build /app/domain/ domain/
COPY --from=build /app/workflows/ workflows/
COPY --from=build /app/activities/ activities/
COPY --from=build /app/common/ common/
COPY --from=build /app/worker/ worker/
COPY --from=build /app/client/ client/
COPY --from=build /app/cli/ cli/
COPY --from=build /app/dev/ dev/
COPY --from=build /app/bin/ bin/
COPY --from=build /app/dist/ dist/
COPY deploy/docker/ deploy/docker/
COPY examples/ examples/
USER node
# The metrics endpoint's port in docker-compose.yml (MRCD_METRICS_PORT).
EXPOSE 9464
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["node", "deploy/docker/worker-healthcheck.js"]
# `docker compose exec worker node bin/mrcd.js status checkout` runs the CLI.
ENTRYPOINT ["node", "--import", "tsx", "worker/main.ts"]
