# linkfwd's images. From the repository root:
#
#   docker build -t linkfwd .                          the npm package on Node (default target)
#   docker build --target binary -t linkfwd:binary .   the single executable alone
#
# Run with an init in front: as PID 1 linkfwd forwards signals and exits with the app's status,
# but Node cannot reap orphaned grandchildren, so apps that fork want `docker run --init`
# (Compose: `init: true`):
#
#   docker run --init --rm linkfwd -f 0.0.0.0:5432:db.internal:5432
#
# To put linkfwd in front of your own app, copy the single executable into its image:
#
#   COPY --from=linkfwd:binary /usr/local/bin/linkfwd /usr/local/bin/linkfwd
#   ENTRYPOINT ["linkfwd", "--"]

ARG NODE_VERSION=20

# ---- build: dev dependencies, TypeScript and the CLI bundle → dist/ -------------------------
FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /app
# --ignore-scripts: `prepare` would build before the sources are here; nothing linkfwd depends
# on needs an install script (esbuild finds its platform package without one).
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
COPY scripts/ scripts/
RUN npm run build

# ---- binary-build: the single executable (needs the dev dependencies) ------------------------
FROM build AS binary-build
# binutils: `strip` drops Node's symbol table (about 12 MiB) from the copy that becomes linkfwd.
RUN apt-get update \
  && apt-get install -y --no-install-recommends binutils \
  && rm -rf /var/lib/apt/lists/*
RUN npm run build:binary

# ---- binary: only the single executable, on a slim Debian ---------------------------------
# It is the official Node binary of the build stage with linkfwd inside: it needs glibc,
# libstdc++ and libgcc_s, all in debian:bookworm-slim.
FROM debian:bookworm-slim AS binary
COPY --from=binary-build /app/build/linkfwd /usr/local/bin/linkfwd
# Fails the build if a shared library is missing.
RUN ["/usr/local/bin/linkfwd", "--version"]
USER nobody
ENTRYPOINT ["/usr/local/bin/linkfwd"]

# ---- prod-deps: production dependencies only -----------------------------------------------
FROM build AS prod-deps
RUN npm prune --omit=dev --no-audit --no-fund

# ---- runtime (default): Node, dist/ and production dependencies, as user `node` --------------
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to `node`: the app user cannot change linkfwd.
COPY --from=prod-deps /app/package.json /app/package-lock.json ./
COPY --from=prod-deps /app/node_modules/ node_modules/
COPY --from=prod-deps /app/dist/ dist/
USER node
ENTRYPOINT ["node", "/app/dist/linkfwd.cjs"]
