# linkfwd's images. From the repository root:
#
#   docker build -t linkfwd .                          the npm bin on Node (default target)
#   docker build --target binary -t linkfwd:binary .   the single executable alone
#
# Building needs the npm registry (npm ci); the binary target also needs Debian's mirror
# (binutils, for `strip`). `npm run test:container` builds every target and runs the checks
# of README "Containers, tested".
#
# Run with an init in front: as PID 1 linkfwd forwards signals and exits with the app's status,
# but Node cannot reap orphaned grandchildren, and a `docker stop` that comes during Node's
# bootstrap (about as long as `node -e 0`), before any JavaScript runs, is dropped by the kernel
# (PID 1 without a handler) and ends in SIGKILL at the timeout. With `docker run --init`
# (Compose: `init: true`) both are handled (README "Running as PID 1"):
#
#   docker run --init --rm linkfwd -f 0.0.0.0:5432:db.internal:5432
#
# To put linkfwd in front of your own app, copy the single executable into its image:
#
#   COPY --from=linkfwd:binary /usr/local/bin/linkfwd /usr/local/bin/linkfwd
#   ENTRYPOINT ["linkfwd", "--"]

ARG NODE_VERSION=24

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

# ---- runtime (default): Node and the CLI bundle, as user `node` --------------------------------
# dist/linkfwd.cjs holds linkfwd and its dependencies in one file that requires only Node's
# built-in modules (scripts/bundle.ts): the image needs no node_modules.
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to `node`: the app user cannot change linkfwd. No package.json:
# the bundle needs none (its version is built in), and one saying "type": "module" would turn
# an app's CommonJS files in /app into ES modules.
COPY --from=build /app/dist/linkfwd.cjs dist/linkfwd.cjs
# `linkfwd` on PATH, so that images built on this one can say ENTRYPOINT ["linkfwd", "--"].
RUN ln -s /app/dist/linkfwd.cjs /usr/local/bin/linkfwd && linkfwd --version
USER node
ENTRYPOINT ["node", "/app/dist/linkfwd.cjs"]
