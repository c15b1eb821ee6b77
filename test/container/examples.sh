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
# examples/kubernetes/deployment.yaml by `podman kube play`, as far as podman runs it. podman
# injects no service variables: the app image (kube/Dockerfile) carries those the kubelet would.
# The copy it plays has one replica and no containerPorts or probes: podman 4.3 publishes every
# containerPort on the host's 0.0.0.0, and runs probes only through systemd. What runs is the
# example's container as written: command, args, env, runAsUser.
c_example_kube() {
  local yaml=$WORK/deployment.yaml ctr=web-pod-0-web status
  sed -e 's/^  replicas: 2$/  replicas: 1/' \
    -e '/^          ports:$/,/^          securityContext:$/{/securityContext:$/!d}' \
    examples/kubernetes/deployment.yaml >"$yaml"
  grep -qF 'args: ["--only", "postgres,redis", "--status", "0.0.0.0:9400", "--", "node", "server.js"]' \
    "$yaml" || { echo "examples/kubernetes/deployment.yaml: the args this check knows are gone"; return 1; }
  podman kube play --network "$NET" --ip "$KUBE_IP" "$yaml" >/dev/null || return 1
  kube_web_checks "$ctr"
  status=$?
  podman kube down "$yaml" >/dev/null 2>&1
  return $status
}
kube_web_checks() {
  local ctr=$1 out
  wait_for_log "$ctr" "web: " || return 1
  out=$(podman logs "$ctr" 2>&1)
  case $out in *"web: redis +PONG, postgres "[SN]*) ;; *) echo "$out" && return 1 ;; esac
  expect_eq "uid (runAsUser)" 1000 "$(podman exec "$ctr" id -u)" || return 1
  # The probes' endpoints from another container, and the forwards: postgres and redis only,
  # not web (the app's own Service) nor kubernetes.
  # shellcheck disable=SC2016
  expect_eq "probes and forwards" "/healthz 200 /readyz 200 POSTGRES_PORT_5432_TCP,REDIS_PORT_6379_TCP" \
    "$(prun --network "$NET" --entrypoint node localhost/linkfwd:runtime -e '(async () => {
      const base = `http://${process.argv[1]}:9400`, out = [];
      for (const p of ["/healthz", "/readyz"]) out.push(p, (await fetch(base + p)).status);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      out.push([...new Set(metrics.match(/(?<=forward=")[^"]+/g))].sort().join());
      console.log(out.join(" "));
    })()' "$KUBE_IP")" || return 1
  # Stopping the pod: SIGTERM reaches the app (no handler: 143 through linkfwd).
  podman pod stop -t 5 web-pod-0 >/dev/null
  expect_eq "web's status after podman pod stop" 143 "$(status_of "$ctr")"
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
  check "examples/kubernetes/deployment.yaml by podman kube play (1 replica, no ports or probes)" \
    c_example_kube
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
# From `podman run` on the host to the app's first line, milliseconds (median of 5); "failed"
# when the app does not start (a broken image must not yield a figure).
run_to_app() {
  local image=$1 i t0 t1 ms=""
  for i in 1 2 3 4 5; do
    t0=$(date +%s%N)
    t1=$(prun "$image" -f 15432:127.0.0.1:5432 -- sh -c 'date +%s%N' 2>/dev/null) &&
      [ -n "$t1" ] || { echo failed; return; }
    ms="$ms$(((t1 - t0) / 1000000))"$'\n'
  done
  printf '%s' "$ms" | median
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
