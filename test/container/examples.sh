# shellcheck shell=bash
# The examples run for real (examples/), and the figures README quotes: image sizes and the
# time from `podman run` to the app's start.

# examples/app-image as examples/docker-links/run.sh runs it: podman has no `--link`, so the
# variables a link would inject are given with -e.
c_example_links() {
  local out
  out=$(prun --init --network "$NET" -e "DB_PORT_5432_TCP=tcp://$SERVER_IP:5432" \
    -e "CACHE_PORT_6379_TCP=tcp://$SERVER_IP:6379" -e PGPASSWORD=example \
    --entrypoint linkfwd localhost/linkfwd-example-app --wait -- probe) || { echo "$out"; return 1; }
  expect_probe "$out"
}
# ... and as examples/compose/docker-compose.yml runs it: entrypoint ["linkfwd", "--"],
# LINKFWD_FORWARD to the servers by name, LINKFWD_WAIT.
c_example_compose() {
  local out
  out=$(prun --init --network "$NET" -e "LINKFWD_FORWARD=5432:$TAG-server:5432,6379:$TAG-server:6379" \
    -e LINKFWD_WAIT=1 -e PGPASSWORD=example --entrypoint '["linkfwd", "--"]' \
    localhost/linkfwd-example-app probe) || { echo "$out"; return 1; }
  expect_probe "$out"
}
expect_probe() {
  case $1 in
  *"PostgreSQL on localhost:5432 says: PostgreSQL "*"Redis on localhost:6379 says: PONG"*) ;;
  *) echo "$1" && return 1 ;;
  esac
}

example_checks() {
  echo "== examples"
  check "examples/app-image, docker-links style (-e DB_PORT_5432_TCP..., --wait -- probe)" c_example_links
  check "examples/app-image, Compose style (LINKFWD_FORWARD by service name)" c_example_compose
  # examples/ambassador/run.sh is c_ambassador on the binary image, above.
}

size_mb() { podman image inspect -f '{{.Size}}' "$1" | awk '{printf "%.1f", $1 / 1e6}'; }
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# Inside a container: `-f … -- true` twenty times, milliseconds each (date +%s%N around it).
startup_in_container() {
  local image=$1
  shift
  # shellcheck disable=SC2016
  prun --entrypoint sh "$image" -c 'for i in $(seq 20); do s=$(date +%s%N); "$@" >/dev/null
    e=$(date +%s%N); echo $(((e - s) / 1000000)); done' sh "$@" | median
}
# From `podman run` on the host to the app's first line, milliseconds (median of 5).
run_to_app() {
  local image=$1 i t0 t1
  for i in 1 2 3 4 5; do
    t0=$(date +%s%N)
    t1=$(prun "$image" -f 15432:127.0.0.1:5432 -- sh -c 'date +%s%N')
    echo $(((t1 - t0) / 1000000))
  done | median
}

figures() {
  echo "== figures (README)"
  {
    echo "   image sizes (podman image inspect, MB): debian:bookworm-slim $(size_mb docker.io/library/debian:bookworm-slim)," \
      "node:24-bookworm-slim $(size_mb docker.io/library/node:24-bookworm-slim)," \
      "linkfwd (runtime) $(size_mb localhost/linkfwd:runtime), linkfwd:binary $(size_mb localhost/linkfwd:binary)"
    echo "   in the container, -f 15432:127.0.0.1:5432 -- true, median of 20 (ms):" \
      "node -e 0 $(startup_in_container localhost/linkfwd:runtime node -e 0)," \
      "npm bin $(startup_in_container localhost/linkfwd:runtime linkfwd -f 15432:127.0.0.1:5432 -- true)," \
      "single executable $(startup_in_container localhost/linkfwd:binary linkfwd -f 15432:127.0.0.1:5432 -- true)"
    echo "   podman run to the app's first line, median of 5 (ms):" \
      "runtime $(run_to_app localhost/linkfwd:runtime), binary $(run_to_app localhost/linkfwd:binary)"
    cat "$WORK/figures" 2>/dev/null
  } || true
}
