#!/usr/bin/env bash
# How long after `exec` a SIGTERM to linkfwd as PID 1 is still lost (README "Running as PID 1").
# Runs linkfwd as PID 1 of a new PID namespace (unshare, root), sends SIGTERM from outside after
# a delay, and sorts each run: caught at start-up (the app never started), forwarded (the app
# got it), or lost (the app started and never got it). A figure, not a test.
#
#   sudo bash bench/pid1-window.sh [LINKFWD_COMMAND...]   (default: node dist/linkfwd.cjs)
# It closes with how long `node -e 0` takes (NODE= names another node).
set -euo pipefail
cd "$(dirname "$0")/.."
TRIES=${TRIES:-5}
DELAYS=${DELAYS:-"0.01 0.02 0.03 0.04 0.05 0.06 0.08 0.10 0.15"}
[ $# -gt 0 ] || set -- node dist/linkfwd.cjs
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "linkfwd as PID 1 ($*), SIGTERM after DELAY s, $TRIES runs each"
for delay in $DELAYS; do
  lost=0 caught=0 forwarded=0
  for _ in $(seq "$TRIES"); do
    unshare --pid --fork --mount-proc "$@" -f 127.0.0.1:15999:127.0.0.1:9 -- \
      sh -c 'trap "echo got-TERM; exit 0" TERM; echo started; sleep 2 & wait' >"$out" 2>&1 &
    outer=$!
    # unshare's child is PID 1 inside; its PID out here is the only child of unshare.
    inner=""
    until [ -n "$inner" ]; do inner=$(tr -d " " <"/proc/$outer/task/$outer/children" 2>/dev/null || true); done
    sleep "$delay"
    kill -TERM "$inner" 2>/dev/null || true
    wait "$outer" || true
    case $(cat "$out") in
    *got-TERM*) forwarded=$((forwarded + 1)) ;;
    *started*) lost=$((lost + 1)) ;;
    *) caught=$((caught + 1)) ;;
    esac
  done
  echo "delay ${delay}s: lost $lost, caught at start-up $caught, forwarded to the app $forwarded"
done

# The window is Node's bootstrap, before linkfwd's first statement: about `node -e 0` (README).
node=${NODE:-node}
for _ in $(seq 10); do
  s=$(date +%s%N) && "$node" -e 0 && e=$(date +%s%N) && echo $(((e - s) / 1000000))
done | sort -n | awk -v n="$node" '{a[NR] = $1} END {print n " -e 0, median of " NR ": " a[int((NR + 1) / 2)] " ms"}'
