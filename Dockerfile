# Image of the TypeScript trans service and app CLI, run from compiled JavaScript (dist/, built in the `build` stage):
# running the .ts sources (Node's type stripping) costs trans ~27 MiB of RSS (docs/performance-memory.md).
#   docker build --target trans -t dtm-gozero-ts-trans .    (the default, last stage)
#   docker build --target app -t dtm-gozero-ts-app .
# docker-compose.yml builds both, and `runtime` for its port preflight (infra/docker/port-preflight.ts). The build
# context is the repository root; .dockerignore keeps it small.

# ---- deps: production dependencies of the workspaces, installed from the lockfile ----
FROM node:24.21.0-slim AS deps
WORKDIR /app
# Every workspace's manifest (npm ci checks the lockfile against all of them); test/compose.test.ts keeps this list
# in step with the workspaces in package.json.
COPY package.json package-lock.json ./
COPY proto/package.json proto/
COPY libs/gozero/package.json libs/gozero/
COPY libs/dtmgrpc/package.json libs/dtmgrpc/
COPY libs/testkit/package.json libs/testkit/
COPY libs/bank/package.json libs/bank/
COPY apps/trans/package.json apps/trans/
COPY apps/app/package.json apps/app/
COPY tools/bench/package.json tools/bench/
COPY tools/chaos/package.json tools/chaos/
COPY tools/devkit/package.json tools/devkit/
COPY tools/fuzz/package.json tools/fuzz/
# The root's devDependencies (linters, codegen, test runner) are dropped from the manifest first: the lockfile
# holds their platform-specific binaries for Linux only, which `npm ci` would otherwise report as out of sync.
# No install scripts are needed: the production dependencies are plain JavaScript.
RUN npm pkg delete devDependencies \
  && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --workspace apps/trans --workspace apps/app \
  && npm cache clean --force

# ---- build: `tsc -b` of trans, the app and the packages they use, with the lockfile's dev tools ----
FROM node:24.21.0-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY proto/ proto/
COPY libs/ libs/
COPY apps/ apps/
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && npm exec --offline -- tsc -b apps/trans/tsconfig.build.json apps/app/tsconfig.build.json

# ---- runtime: the installed dependencies, the sources and their dist/, run as the unprivileged `node` user ----
# The packages resolve to dist/ under the `dtm-gozero-dist` export condition (node --conditions=dtm-gozero-dist).
FROM node:24.21.0-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app ./
COPY proto/ proto/
COPY libs/ libs/
COPY apps/ apps/
COPY --from=build /app/proto/dist proto/dist
COPY --from=build /app/libs/gozero/dist libs/gozero/dist
COPY --from=build /app/libs/dtmgrpc/dist libs/dtmgrpc/dist
COPY --from=build /app/libs/bank/dist libs/bank/dist
COPY --from=build /app/apps/trans/dist apps/trans/dist
COPY --from=build /app/apps/app/dist apps/app/dist
COPY infra/docker/ infra/docker/
USER node

# ---- app: the CLI, runs once (msg + tcc) and exits ----
FROM runtime AS app
HEALTHCHECK NONE
# Runs CMD as is; with compose's observe profile, on etc/config-observe.yaml (infra/docker/observe-profile.sh).
ENTRYPOINT ["sh", "infra/docker/observe-profile.sh"]
CMD ["node", "--conditions=dtm-gozero-dist", "apps/app/dist/main.js", "-f", "apps/app/etc/config.yaml"]

# ---- trans: the TransSvc gRPC service ----
FROM runtime AS trans
EXPOSE 50081
# Healthy once trans accepts TCP connections on ListenOn and its address is registered in etcd.
HEALTHCHECK --interval=5s --timeout=4s --start-period=20s --retries=5 \
  CMD ["node", "infra/docker/trans-healthcheck.ts", "-f", "apps/trans/etc/trans.yaml"]
# Runs CMD as is; with compose's observe profile, on etc/trans-observe.yaml (infra/docker/observe-profile.sh).
ENTRYPOINT ["sh", "infra/docker/observe-profile.sh"]
# The production flags (tools/bench/src/trans.ts PROD_NODE_ARGS, chosen by measurement; its trans.test.ts checks).
CMD ["node", "--conditions=dtm-gozero-dist", "--max-semi-space-size=4", "--max-old-space-size=512", "apps/trans/dist/trans.js", "-f", "apps/trans/etc/trans.yaml"]
