#!/usr/bin/env bash
# Runs the mysql lesson's MariaDB StatefulSet (manifests/mysql/mariadb-*.yaml) on this host without
# Kubernetes, from the stand-in image images.sh builds: each "pod" is a network namespace on a private bridge
# (10.254.77.0/24, in a namespace of its own) whose containers run the manifest's own scripts, chrooted into
# the image's unpacked rootfs with the pod's volumes bind-mounted where the manifest mounts them. Then it plays
# the lesson's checks with the mariadb client from a client namespace:
#
#   mysql-0 starts empty (mariadb-install-db), takes a write; mysql-1 clones mysql-0 (mariadb-backup over socat),
#   replicates from its GTID and refuses root's write (read-only); mysql-2 clones mysql-1 (a replica); a DROP
#   on the primary reaches both replicas.
#
#   mariadb-pods.sh [IMAGE.tar]   default $STACK_CACHE/images/mariadb.tar; needs root, ip, unshare, node
#   K8SLAB_MARIADB_MANIFESTS=DIR  another copy of manifests/mysql (the sabotage test edits one)
#
# Prints one "ok ..." line per step and exits 0, or "FAIL ..." and exits 1. Everything it starts (processes,
# namespaces, the work dir) is removed on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
image=${1:-$STACK_CACHE/images/mariadb.tar}
[[ -f $image ]] || die "$image is missing: run bench/stack/images.sh mariadb"
[[ $(id -u) == 0 ]] || die "needs root (network namespaces, chroot)"
manifests=$(cd "${K8SLAB_MARIADB_MANIFESTS:-$here/../../manifests/mysql}" && pwd)

W=$(mktemp -d /tmp/k8slab-mariadb-pods.XXXXXX)
NS=k8slab-mdb-$$
PGIDS=()
cleanup() {
  local g n
  for g in "${PGIDS[@]}"; do kill -- "-$g" 2>/dev/null || true; done
  sleep 1
  for g in "${PGIDS[@]}"; do kill -9 -- "-$g" 2>/dev/null || true; done
  for n in net 0 1 2 c; do ip netns del "$NS-$n" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT

ok() { printf 'ok %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; for f in "$W"/pod-*/log/*; do [[ -s $f ]] && { echo "--- $f"; tail -n "${LOG_LINES:-25}" "$f"; }; done; exit 1; }

# The image's rootfs, and the manifest's scripts and ConfigMap files.
mkdir -p "$W/rootfs"
tar -xf "$image" -C "$W" manifest.json
tar -xOf "$image" "$(jq -r '.[0].Layers[0]' "$W/manifest.json")" | tar -x -C "$W/rootfs"
mkdir -p "$W/rootfs/proc" "$W/rootfs/dev" "$W/rootfs/mnt/conf.d" "$W/rootfs/mnt/config-map"
touch "$W/rootfs/etc/hosts" # the kubelet mounts one there
# shellcheck disable=SC2016 # JavaScript, not shell
NODE_PATH=$here/../../node_modules node -e '
  const { parse } = require("yaml"); const fs = require("fs"); const [dir, out] = process.argv.slice(1);
  const sts = parse(fs.readFileSync(dir + "/mariadb-statefulset.yaml", "utf8")).spec.template.spec;
  for (const c of [...sts.initContainers, ...sts.containers]) fs.writeFileSync(`${out}/${c.name}.sh`, c.command[2]);
  const cm = parse(fs.readFileSync(dir + "/mariadb-configmap.yaml", "utf8")).data;
  fs.mkdirSync(out + "/config-map");
  for (const [k, v] of Object.entries(cm)) fs.writeFileSync(`${out}/config-map/${k}`, v);
' "$manifests" "$W"

# The bridge, and one namespace per pod (and the client) on it, named in every /etc/hosts.
ip netns add "$NS-net"
ip -n "$NS-net" link add br0 type bridge
ip -n "$NS-net" link set br0 up
hosts="127.0.0.1 localhost"$'\n'
addr() { case $1 in c) echo 10.254.77.5 ;; *) echo "10.254.77.$((10 + $1))" ;; esac; }
for n in 0 1 2 c; do
  ip netns add "$NS-$n"
  ip link add "mdb$$$n" netns "$NS-net" type veth peer name eth0 netns "$NS-$n"
  ip -n "$NS-net" link set "mdb$$$n" master br0 up
  ip -n "$NS-$n" addr add "$(addr "$n")/24" dev eth0
  ip -n "$NS-$n" link set eth0 up
  ip -n "$NS-$n" link set lo up
  [[ $n == c ]] || hosts+="$(addr "$n") mysql-$n.mysql mysql-$n"$'\n'
done
printf '%s' "$hosts" >"$W/rootfs/etc/hosts" # the client's; each container mounts its pod's copy

# container POD NAME [--bg]: the manifest's script NAME in pod POD's namespace, with the pod's volumes
# (data -> /var/lib/mysql, conf -> /etc/mysql/conf.d and /mnt/conf.d, the ConfigMap -> /mnt/config-map) and a
# /run/mysqld and /tmp of its own, as a container has.
container() {
  local pod=$1 name=$2 p=$W/pod-$1
  mkdir -p "$p/data" "$p/conf" "$p/log" "$p/run-$name" "$p/tmp-$name"
  chown 999:999 "$p/run-$name"; chmod 1777 "$p/tmp-$name"
  printf '%s' "$hosts" >"$p/hosts"
  local inner="
    set -e
    mount --bind /dev '$W/rootfs/dev'; mount -t proc proc '$W/rootfs/proc'
    mount --bind '$p/data' '$W/rootfs/var/lib/mysql'
    mount --bind '$p/conf' '$W/rootfs/etc/mysql/conf.d'; mount --bind '$p/conf' '$W/rootfs/mnt/conf.d'
    mount --bind '$W/config-map' '$W/rootfs/mnt/config-map'
    mount --bind '$p/run-$name' '$W/rootfs/run/mysqld'; mount --bind '$p/tmp-$name' '$W/rootfs/tmp'
    mount --bind '$p/hosts' '$W/rootfs/etc/hosts'
    hostname mysql-$pod
    exec chroot '$W/rootfs' bash -c \"\$(cat '$W/$name.sh')\""
  if [[ ${3:-} == --bg ]]; then
    setsid ip netns exec "$NS-$pod" unshare --mount --uts bash -c "$inner" >"$p/log/$name" 2>&1 &
    PGIDS+=("$!")
  else
    ip netns exec "$NS-$pod" unshare --mount --uts bash -c "$inner" >"$p/log/$name" 2>&1 || fail "mysql-$pod: $name exited $?"
  fi
}

# sql HOST STATEMENT: the lesson's client call (root, no password), from the client namespace.
sql() {
  ip netns exec "$NS-c" chroot "$W/rootfs" mariadb -h "$1" -u root --connect-timeout=5 -N -B -e "$2"
}
# until_ok WHAT SECONDS COMMAND...: one poll loop for every wait here.
until_ok() {
  local what=$1 limit=$2 i; shift 2
  for ((i = 0; i < limit; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  fail "$what: not within ${limit}s"
}

pod() { # pod N: init containers in order, then the server and the sidecar; waits for Ready (the probe)
  container "$1" init-mysql
  container "$1" clone-mysql
  container "$1" mysql --bg
  container "$1" mariadb-backup --bg
  until_ok "mysql-$1 ready" 120 ip netns exec "$NS-$1" chroot "$W/rootfs" mariadb -h 127.0.0.1 -e 'SELECT 1'
  ok "mysql-$1 ready ($(sql "mysql-$1.mysql" 'SELECT @@version, @@server_id, @@read_only' | tr '\t' ' '))"
}

row_on() { [[ $(sql "$1" "SELECT message FROM k8slab.message WHERE message = '$2'") == "$2" ]]; }
gone_on() { [[ $(sql "$1" "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = 'k8slab'") == 0 ]]; }

pod 0
sql mysql-0.mysql "CREATE DATABASE IF NOT EXISTS k8slab; CREATE TABLE IF NOT EXISTS k8slab.message (message VARCHAR(250)); INSERT INTO k8slab.message VALUES ('hello-1')" ||
  fail "mysql-0 refused the write"
ok "mysql-0 (primary) took a write as root@'%'"

pod 1
[[ $(grep -c 'mariadb-backup --prepare' "$W/pod-1/log/clone-mysql") == 1 ]] || fail "mysql-1 did not clone"
until_ok "mysql-1 to replicate" 60 row_on mysql-1.mysql hello-1
sql mysql-0.mysql "INSERT INTO k8slab.message VALUES ('hello-2')"
until_ok "mysql-1 to follow a write made after the clone" 60 row_on mysql-1.mysql hello-2
ok "mysql-1 cloned mysql-0 and replicates ($(sql mysql-1.mysql 'SELECT @@gtid_slave_pos'))"
if out=$(sql mysql-1.mysql "INSERT INTO k8slab.message VALUES ('written-on-a-replica')" 2>&1); then fail "mysql-1 accepted root's write"; fi
[[ $out == *read-only* ]] || fail "mysql-1 refused the write, but not for read-only: $out"
ok "mysql-1 refused root's write: $(grep -a '^ERROR' <<<"$out")"

pod 2
until_ok "mysql-2 (a clone of the replica mysql-1) to have the data" 60 row_on mysql-2.mysql hello-2
sql mysql-0.mysql "INSERT INTO k8slab.message VALUES ('hello-3')"
until_ok "mysql-2 to follow the primary" 60 row_on mysql-2.mysql hello-3
ok "mysql-2 cloned mysql-1 and follows mysql-0 ($(sql mysql-2.mysql 'SELECT @@gtid_slave_pos'))"

sql mysql-0.mysql "DROP DATABASE k8slab"
until_ok "the DROP to reach mysql-1" 60 gone_on mysql-1.mysql
until_ok "the DROP to reach mysql-2" 60 gone_on mysql-2.mysql
ok "DROP DATABASE on mysql-0 reached mysql-1 and mysql-2"
# K8SLAB_PODS_LOGS=1: every container's log too (what the scripts did on the way).
if [[ -n ${K8SLAB_PODS_LOGS:-} ]]; then for f in "$W"/pod-*/log/*; do echo "--- ${f#"$W"/}"; grep -av InnoDB "$f"; done; fi
