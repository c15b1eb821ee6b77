#!/bin/sh
# A standalone ambassador: linkfwd with no command, forwarding to a Redis on another host, so
# that containers linked to it reach that Redis as if it ran beside them.
# REDIS_HOST is where Redis really runs. Needs a Docker engine.
set -eu
cd "$(dirname "$0")/../.."
docker build --target binary -t linkfwd:binary .

docker rm -f redis-ambassador >/dev/null 2>&1 || true
# The variable follows Docker's ambassador convention: listen on the port in its name, dial the
# address in its value. --only redis makes it explicit (a bind failure is fatal, not a warning);
# --bind 0.0.0.0 listens on the container's network, which linkfwd never does unless told.
docker run -d --init --name redis-ambassador --expose 6379 \
  -e REDIS_PORT_6379_TCP="tcp://${REDIS_HOST:-192.168.1.52}:6379" \
  linkfwd:binary \
  --only redis --bind 0.0.0.0

# A consumer links to the ambassador as if it were Redis (once linkfwd listens: well under a second).
sleep 1
docker run --rm --link redis-ambassador:redis redis:7-bookworm redis-cli -h redis ping
docker rm -f redis-ambassador >/dev/null
