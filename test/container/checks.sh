# shellcheck shell=bash
# The checks of test/container/run.sh. Each c_* function is one check: status 0 passes, and on
# failure what it prints says why. I: the linkfwd image, A: the app image on it, F: linkfwd's
# file in it, U: the user id it runs as.
VERSION=$(node -p 'require("./package.json").version')
# An app that reports each signal it gets, once per delivery, and stays up.
TRAPS='for s in INT HUP USR1 QUIT; do trap "echo got $s" $s; done; echo ready; while :; do sleep 0.05; done'

prun() { podman run --rm --pull=never "$@"; }
status_of() { podman inspect -f '{{.State.ExitCode}}' "$1"; }
now_ms() { date +%s%3N; }

start_server() {
  podman run -d --name "$TAG-server" --network "$NET" --ip "$SERVER_IP" \
    localhost/linkfwd-test-server >/dev/null && wait_for_log "$TAG-server" "servers ready"
}

c_version() { expect_eq version "$VERSION" "$(prun "$I" --version)"; }
c_on_path() { expect_eq version "$VERSION" "$(prun --entrypoint linkfwd "$I" --version)"; }
c_help() {
  local out
  out=$(prun "$I" --help) || return 1
  case $out in *--forward*--print*) ;; *) echo "$out" && return 1 ;; esac
}
c_print() {
  local out
  out=$(prun -e DB_PORT_5432_TCP=tcp://10.1.2.3:5432 -e CACHE_PORT_6379_TCP=tcp://10.1.2.4:6379 \
    "$I" --print --json) || return 1
  expect_eq plan "DB_PORT_5432_TCP 5432 10.1.2.3:5432,CACHE_PORT_6379_TCP 6379 10.1.2.4:6379" \
    "$(node -e 'const p = JSON.parse(require("fs").readFileSync(0, "utf8"));
      console.log(p.forwards.map((f) => `${f.origin} ${f.listen[0].port} ${f.target.host}:${f.target.port}`).join())' <<<"$out")"
}
c_user() {
  # shellcheck disable=SC2016
  expect_eq "user, then linkfwd's file and folder" "$U read-only read-only" "$(prun "$I" -- sh -c '
    printf "%s " "$(id -u)"
    if (: >>"$0") 2>/dev/null; then printf "writable "; else printf "read-only "; fi
    if touch "$(dirname "$0")/x" 2>/dev/null; then echo writable; else echo read-only; fi' "$F")"
}
c_commonjs_app() {
  # An app's CommonJS file in the image's working directory, where a package.json of linkfwd's
  # saying "type": "module" would make Node load it as an ES module ("require is not defined").
  local dir
  dir=$(mktemp -d "$WORK/cjs.XXXXXX")
  printf 'console.log(typeof require)\n' >"$dir/server.js"
  chmod -R a+rX "$dir"
  expect_eq "typeof require in /app/server.js" function \
    "$(prun -v "$dir/server.js:/app/server.js:ro" "$I" -- node server.js 2>&1)"
}
c_exit() {
  local want=$1 got
  shift
  prun "$I" -- "$@" >/dev/null 2>&1
  got=$?
  expect_eq "container status" "$want" "$got"
}
c_not_found() {
  local err got
  err=$(prun "$I" -- no-such-command 2>&1 >/dev/null)
  got=$?
  expect_eq "container status" 127 "$got" || return 1
  # Naming the command: an ENTRYPOINT that ends in `--` fails with 127 too, on its first option.
  case $err in 'linkfwd: cannot run "no-such-command"'*) [ "$(wc -l <<<"$err")" -eq 1 ] ;;
  *) echo "$err" && return 1 ;;
  esac
}
# An app that knows only localhost, with real clients. Arguments: podman options, `--`, then
# linkfwd's options: how linkfwd is told where to forward.
c_clients() {
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1") && shift; done
  shift
  # shellcheck disable=SC2016
  expect_eq "psql and redis-cli through linkfwd" "42 PONG" "$(prun --network "$NET" "${opts[@]}" "$A" \
    "$@" --wait -- sh -c 'echo $(psql -h localhost -U postgres -Atc "select 6*7") $(redis-cli -h localhost ping)')"
}
# Forward-only mode: an ambassador on the network, reached by a consumer container.
c_ambassador() {
  local name=$TAG-amb out i
  podman run -d --init --name "$name" --network "$NET" --ip "$AMBASSADOR_IP" \
    -e REDIS_PORT_6379_TCP="tcp://$SERVER_IP:6379" "$I" --only redis --bind 0.0.0.0 >/dev/null || return 1
  for i in 1 2 3 4 5 6 7 8 9 10; do
    out=$(prun --network "$NET" --entrypoint redis-cli "$A" -h "$AMBASSADOR_IP" ping 2>&1)
    [ "$out" = PONG ] && break
    sleep 0.5
  done
  podman stop -t 5 "$name" >/dev/null
  local status
  status=$(status_of "$name")
  podman rm -f "$name" >/dev/null
  expect_eq "consumer's redis-cli ping" PONG "$out" && expect_eq "ambassador's status after stop" 0 "$status"
}
# `podman stop -t TIMEOUT` on an app running SCRIPT: prints the status and the seconds taken.
stop_app() {
  local name=$TAG-stop timeout=$1 t0 t1
  podman run -d --name "$name" "$I" -- sh -c "$2" >/dev/null && wait_for_log "$name" ready >/dev/null
  t0=$(now_ms)
  podman stop -t "$timeout" "$name" >/dev/null
  t1=$(now_ms)
  echo "$(status_of "$name") $(((t1 - t0) / 1000))"
  podman rm -f "$name" >/dev/null
}
c_stop_handled() {
  local got
  got=$(stop_app 10 'trap "exit 7" TERM; echo ready; while :; do sleep 0.05; done')
  expect_eq "status (the app exits 7 on SIGTERM)" 7 "${got% *}" &&
    { [ "${got#* }" -lt 5 ] || { echo "took ${got#* } s of the 10 s timeout" && return 1; }; }
}
c_stop_ignored() {
  local got
  got=$(stop_app 2 'trap "" TERM; echo ready; while :; do sleep 0.05; done')
  expect_eq "status (SIGKILL at the timeout)" 137 "${got% *}" &&
    { [ "${got#* }" -ge 2 ] || { echo "took ${got#* } s, less than the 2 s timeout" && return 1; }; }
}
# `podman kill -s SIG` for each SIG in EXPECT (SIG:COUNT ...): how often the app got it.
c_kill() {
  local name=$TAG-kill tty=$1 expect=$2 got="" pair sig logs
  podman run -d $tty --name "$name" "$I" -- sh -c "$TRAPS" >/dev/null && wait_for_log "$name" ready >/dev/null
  for pair in $expect; do
    sig=${pair%:*}
    podman kill -s "$sig" "$name" >/dev/null
    sleep 0.5
  done
  if [ "${3:-}" = workaround ]; then
    # README: with a terminal, send INT to every process but PID 1 (bash's kill: dash has no -1).
    podman exec "$name" bash -c 'kill -INT -1'
    sleep 0.5
  fi
  logs=$(podman logs "$name" 2>&1 | tr -d '\r')
  podman rm -f -t 0 "$name" >/dev/null
  for pair in $expect; do
    sig=${pair%:*}
    got="$got $sig:$(grep -c "^got $sig\$" <<<"$logs")"
  done
  expect_eq "deliveries" " $expect" "$got"
}
# Ctrl-C typed into `podman run -it` (a real pty on this side): the app gets SIGINT once.
c_ctrl_c() {
  local name=$TAG-tty
  NAME=$name IMAGE=$I SCRIPT=$TRAPS timeout 60 python3 -c '
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp("podman", ["podman", "run", "--rm", "-it", "--name", os.environ["NAME"],
        os.environ["IMAGE"], "--", "sh", "-c", os.environ["SCRIPT"]])
out = b""
def read_for(seconds):
    global out
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try: out += os.read(fd, 4096)
            except OSError: return
read_for(0)
while b"ready" not in out:
    read_for(0.2)
os.write(fd, b"\x03")
read_for(1.5)
n = out.count(b"got INT")
print(f"Ctrl-C delivered {n} time(s)")
sys.exit(0 if n == 1 else 1)'
  local status=$?
  podman rm -f -t 0 "$name" >/dev/null 2>&1
  return $status
}
# Five orphaned grandchildren that exit: how many zombies are left behind.
c_zombies() {
  local name=$TAG-zombie want=$1 got
  shift
  podman run -d "$@" --name "$name" "$I" -- \
    sh -c 'for i in 1 2 3 4 5; do (sleep 0.2 &); done; echo ready; sleep 60' >/dev/null &&
    wait_for_log "$name" ready >/dev/null
  sleep 1.5
  got=$(podman exec "$name" sh -c 'grep -l "^State:[[:space:]]*Z" /proc/[0-9]*/status 2>/dev/null | wc -l')
  podman rm -f -t 0 "$name" >/dev/null
  expect_eq zombies "$want" "$got"
}
# `podman stop` right after `podman run -d`, five times: the statuses. Without an init, a stop
# before Node runs linkfwd's first statement is dropped by the kernel (137 at the timeout).
EARLY_TRIES=5
c_stop_early() {
  local allowed=$1 i name statuses="" s
  shift
  for i in $(seq $EARLY_TRIES); do
    name=$TAG-early$i
    podman run -d "$@" --name "$name" "$I" -- sh -c 'trap "exit 0" TERM; while :; do sleep 0.05; done' >/dev/null
    podman stop -t 2 "$name" >/dev/null
    statuses="$statuses $(status_of "$name")"
    podman rm -f -t 0 "$name" >/dev/null
  done
  echo "statuses:$statuses"
  for s in $statuses; do case " $allowed " in *" $s "*) ;; *) return 1 ;; esac; done
  echo "   [$K] stop right after run $* ->$statuses" >>"$WORK/figures"
}

image_checks() {
  K=$1 I=$2 A=$3 F=$4 U=$5
  echo "== $K image ($I)"
  check "[$K] --version" c_version
  check "[$K] linkfwd on PATH (ENTRYPOINT [\"linkfwd\", \"--\"] works)" c_on_path
  check "[$K] --help" c_help
  check "[$K] --print --json from -e link variables" c_print
  check "[$K] runs as uid $U; the app cannot modify linkfwd's file or folder" c_user
  if [ "$K" = runtime ]; then
    check "[$K] a CommonJS app in the working directory /app runs" c_commonjs_app
  fi
  check "[$K] app exits 3 -> container 3" c_exit 3 sh -c 'exit 3'
  check "[$K] app killed by SIGKILL -> 137" c_exit 137 sh -c 'kill -9 $$'
  check "[$K] command not found -> 127, one linkfwd: line" c_not_found
  check "[$K] psql/redis-cli on localhost via DB_PORT_5432_TCP, REDIS_PORT_6379_TCP" c_clients \
    -e "DB_PORT_5432_TCP=tcp://$SERVER_IP:5432" -e "REDIS_PORT_6379_TCP=tcp://$SERVER_IP:6379" --
  check "[$K] the same via -f by container name" c_clients -- \
    -f "5432:$TAG-server:5432" -f "6379:$TAG-server:6379"
  check "[$K] ambassador (forward-only, --bind 0.0.0.0) reached by another container; stop -> 0" c_ambassador
  check "[$K] podman stop: app's SIGTERM handler runs, container status is the app's" c_stop_handled
  check "[$K] podman stop: app ignoring SIGTERM is killed at the timeout (137)" c_stop_ignored
  check "[$K] podman kill -s INT/HUP/USR1/QUIT: each arrives once" c_kill "" "INT:1 HUP:1 USR1:1 QUIT:1"
  check "[$K] with -t: HUP/USR1 arrive once; INT/QUIT from the runtime do not (README)" \
    c_kill -t "INT:0 QUIT:0 HUP:1 USR1:1"
  check "[$K] with -t --init: INT from the runtime does not arrive either (README)" \
    c_kill "-t --init" "INT:0 HUP:1"
  check "[$K] with -t: bash -c 'kill -INT -1' by podman exec reaches the app once (README)" \
    c_kill -t "INT:1" workaround
  check "[$K] with -it: Ctrl-C typed on the terminal arrives once" c_ctrl_c
  check "[$K] 5 orphans without --init: 5 zombies (README)" c_zombies 5
  check "[$K] 5 orphans with --init: no zombie" c_zombies 0 --init
  check "[$K] stop right after run, --init: never lost (143, or the app's 0)" c_stop_early "143 0" --init
  check "[$K] stop right after run, no init: 143 or 0, or 137 when dropped (README)" c_stop_early "143 0 137"
}
