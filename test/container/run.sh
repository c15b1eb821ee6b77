#!/usr/bin/env bash
# npm run test:container: builds linkfwd's images from the Dockerfile as it is, in podman, and
# checks them where users run them (README "Containers, tested"). Needs root, podman, buildah,
# runc, tini, iptables, debootstrap and catatonit (.ci/run installs them), the npm registry and
# Debian's mirror. Prints one line per check and closes with `N passed, M failed`; exits 1 on a
# failure.
# Leaves no container, image, network or netavark chain behind, also when a check fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
HERE=test/container
# shellcheck source=lib.sh
source "$HERE/lib.sh"
# shellcheck source=checks.sh
source "$HERE/checks.sh"
# shellcheck source=examples.sh
source "$HERE/examples.sh"
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" -ne 0 ]; then
  echo "linkfwd container test: needs root (podman with runc, netavark networks)" >&2
  exit 1
fi
setup_podman
START=$(date +%s)

# Downloads (npm's cache, apt's archives) are kept in $CACHE across runs, mounted into the
# builds' RUN steps: nothing of them ends up in an image, and the Dockerfiles stay as they are.
mkdir -p "$CACHE/npm" "$CACHE/apt/partial"
build() {
  podman build -q --pull=never --network host -v "$CACHE/npm:/root/.npm" \
    -v "$CACHE/apt:/var/cache/apt/archives" "$@" >/dev/null
}

echo "== base images, builds"
check "stand-in base images (debian:bookworm-slim, node:24-bookworm-slim)" make_base_images
# Every target of the Dockerfile, unchanged: runtime (the default) and binary need the others.
check "build: default target (runtime)" build -t localhost/linkfwd:runtime .
check "build: target binary" build --target binary -t localhost/linkfwd:binary .
check "build: server image (PostgreSQL, Redis)" \
  build --build-arg SUBNET="$SUBNET_PREFIX.0/24" -t localhost/linkfwd-test-server \
  -t docker.io/library/postgres:17-bookworm "$HERE/server"
check "build: app image on the runtime image" build -f "$HERE/app.Dockerfile" \
  --build-arg BASE=localhost/linkfwd:runtime --build-arg APP_USER=node -t localhost/app:runtime "$HERE"
check "build: app image on the binary image" build -f "$HERE/app.Dockerfile" \
  --build-arg BASE=localhost/linkfwd:binary --build-arg APP_USER=nobody -t localhost/app:binary "$HERE"
check "build: examples/app-image, unchanged" build -t localhost/linkfwd-example-app examples/app-image
check "build: the app image examples/kubernetes names (kube/Dockerfile)" build \
  --build-arg SERVER_IP="$SERVER_IP" -t registry.example.com/web:1.0 "$HERE/kube"
echo "   built in $(($(date +%s) - START)) s"

echo "== servers"
check "internal network $NET ($SUBNET_PREFIX.0/24)" make_network
check "server container answers (PostgreSQL, Redis)" start_server

image_checks runtime localhost/linkfwd:runtime localhost/app:runtime /app/dist/linkfwd.cjs 1000
image_checks binary localhost/linkfwd:binary localhost/app:binary /usr/local/bin/linkfwd 65534
example_checks
figures

echo "== done in $(($(date +%s) - START)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
