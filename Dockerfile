# syntax=docker/dockerfile:1.7
# One image for every FTI service; the command picks the service:
#   docker run IMAGE node services/registry/dist/main.js
# Build: docker build -t fti .   (the Helm chart sets the command per Deployment)

# Debian (glibc), not Alpine: @duckdb/node-api and onnxruntime-node ship glibc binaries.
ARG NODE_IMAGE=docker.io/library/node:22.18.0-bookworm-slim

# ---- build: every dependency, then compile the TypeScript project graph ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
# onnxruntime-node's install script would fetch GPU binaries; the CPU build ships in the package.
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY . .
# `npm install`, not `npm ci`: it keeps to the lockfile too, and tolerates the
# other platforms' optional binaries (buf, esbuild) the lockfile cannot list.
RUN npm install --no-audit --no-fund \
 && npx tsc -b \
 # What the runtime needs from the workspaces: manifests (for npm ci and the
 # workspace links), compiled output and SQL migrations. No sources, no tests.
 && mkdir -p /out \
 && find libs services -mindepth 2 -maxdepth 2 \( -name package.json -o -name dist -o -name migrations \) -print0 \
    | tar --null -cf - --exclude='*.tsbuildinfo' -T - | tar -xf - -C /out \
 # The fti CLI ships in the image too; examples and bench only as manifests,
 # so every workspace the root package.json names exists.
 && find cli -maxdepth 1 \( -name package.json -o -name dist -o -name bin \) -print0 \
    | tar --null -cf - --exclude='*.tsbuildinfo' -T - | tar -xf - -C /out \
 && find examples bench -maxdepth 2 -name package.json -print0 | tar --null -cf - -T - | tar -xf - -C /out \
 && cp package.json package-lock.json .npmrc /out/

# ---- prod-deps: production dependencies only, from the same lockfile ----
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip \
    NPM_CONFIG_UPDATE_NOTIFIER=false
COPY --from=build /out/ ./
RUN npm install --omit=dev --no-audit --no-fund \
 && npm cache clean --force

# ---- runtime: node, production node_modules, compiled services ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Root-owned and not writable by the service user; the chart also mounts the
# root filesystem read-only, with /tmp as an emptyDir.
COPY --from=prod-deps /app/ ./
USER 1000:1000
EXPOSE 50051-50056 8081-8086
CMD ["node", "services/registry/dist/main.js"]
