#!/bin/sh
# Docker legacy links: `--link db:db` gives the app DB_PORT_5432_TCP=tcp://<db's IP>:5432, and
# linkfwd turns that into localhost:5432. Run from anywhere; needs a Docker engine.
#
# Docker Engine 29 and later inject link variables only when the daemon runs with
# DOCKER_KEEP_DEPRECATED_LEGACY_LINKS_ENV_VARS=1 in its environment (e.g. a systemd drop-in
# `Environment=DOCKER_KEEP_DEPRECATED_LEGACY_LINKS_ENV_VARS=1` for docker.service). Without it
# use the link's host name instead: `-f 5432:db:5432 -f 6379:cache:6379` (see README.md).
set -eu
cd "$(dirname "$0")/../.."

docker build --target binary -t linkfwd:binary .
docker build -t linkfwd-example-app examples/app-image

docker rm -f linkfwd-example-db linkfwd-example-cache >/dev/null 2>&1 || true
trap 'docker rm -f linkfwd-example-db linkfwd-example-cache >/dev/null 2>&1 || true' EXIT

docker run -d --name linkfwd-example-db -e POSTGRES_PASSWORD=example postgres:17-bookworm
docker run -d --name linkfwd-example-cache redis:7-bookworm

# The app's image has linkfwd copied in; --entrypoint puts it in front of the app's command.
# --wait: start the app once both targets accept connections (PostgreSQL takes a few seconds).
docker run --rm --init \
  --link linkfwd-example-db:db \
  --link linkfwd-example-cache:cache \
  -e PGPASSWORD=example \
  --entrypoint linkfwd \
  linkfwd-example-app \
  --wait -- probe
