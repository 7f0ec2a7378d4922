#!/usr/bin/env bash
# A throw-away Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler; no
# nodes) as plain processes, from the binaries build.sh makes. For tests that need a real apiserver.
#
#   control-plane.sh up     [--name NAME] [--address IP]   start it (building the binaries if missing), print env
#   control-plane.sh env    [--name NAME]                  print KEY=VALUE lines (KUBECONFIG=... and more)
#   control-plane.sh status [--name NAME]                  exit 0 when every process runs and /readyz answers
#   control-plane.sh down   [--name NAME]                  stop its processes and delete its state
#
# NAME (default "default") keeps several side by side; its state is $STACK_CACHE/run/NAME. IP defaults to
# 127.0.0.1; ports are free ports picked at start. `up` on a running NAME prints its env and does nothing else;
# on a half-dead one it starts over. The env lines use the keys of ../shared/testbed/control-plane.sh, so a
# test can switch between the two by path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

main() {
  local cmd=${1:-} name=default addr=127.0.0.1
  [[ -n $cmd ]] || usage_error "no command"
  shift
  while [[ $# -gt 0 ]]; do
    case $1 in
      --name) name=${2:?--name needs a value}; shift 2 ;;
      --address) addr=${2:?--address needs a value}; shift 2 ;;
      *) usage_error "unknown argument '$1'" ;;
    esac
  done
  [[ $name =~ ^[a-z0-9][a-z0-9-]{0,62}$ ]] || usage_error "--name '$name' must match [a-z0-9][a-z0-9-]{0,62}"
  [[ $addr =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}$ ]] || usage_error "--address '$addr' must be an IPv4 address"
  RUN=$STACK_CACHE/run/$name NAME=$name ADDR=$addr
  BIN=$STACK_CACHE/bin/kubernetes/$KUBE_VERSION ETCD_BIN=$STACK_CACHE/bin/etcd/$ETCD_VERSION
  PKI=$RUN/pki KC=$RUN/kubeconfig
  case $cmd in
    up) cmd_up ;;
    env) cmd_env ;;
    status) cmd_status ;;
    down) cmd_down ;;
    *) usage_error "unknown command '$cmd'" ;;
  esac
}

COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler)
SERVICE_CIDR=10.96.0.0/12
POD_CIDR=10.244.0.0/16

cmd_up() {
  local t0=$SECONDS
  # Built once per version (the directories carry it); build.sh itself waits while another build holds its lock.
  local b
  for b in "$BIN/kube-apiserver" "$BIN/kube-controller-manager" "$BIN/kube-scheduler" "$BIN/kubectl" \
    "$BIN/kubeadm" "$ETCD_BIN/etcd" "$ETCD_BIN/etcdctl"; do
    [[ -x $b ]] || { "$here/build.sh" control-plane >&2; break; }
  done
  take_lock "run-$NAME"
  if [[ -f $RUN/ports.env ]] && all_running && ready; then
    log "control plane '$NAME' already running"; print_env; return
  fi
  if [[ -d $RUN ]]; then log "control plane '$NAME' is incomplete: starting over"; stop_all; rm -rf "$RUN"; fi
  mkdir -p "$RUN/pids" "$RUN/logs" "$KC"

  local etcd_port peer_port api_port
  etcd_port=$(free_port) peer_port=$(free_port "$etcd_port") api_port=$(free_port "$etcd_port" "$peer_port")
  printf 'ADDRESS=%s\nAPISERVER_PORT=%s\nETCD_PORT=%s\n' "$ADDR" "$api_port" "$etcd_port" >"$RUN/ports.env"
  local server=https://$ADDR:$api_port advertise=() reconciler=lease
  # kubeadm rejects a loopback advertise address, and Endpoints may not hold one: with 127.x the endpoint is
  # given as --control-plane-endpoint only and Service "kubernetes" gets no endpoints (reconciler none).
  if [[ $ADDR == 127.* ]]; then reconciler=none; else advertise=(--apiserver-advertise-address "$ADDR"); fi

  kubeadm_phases "$api_port" "${advertise[@]}"
  start_etcd "$etcd_port" "$peer_port"
  start_apiserver "$etcd_port" "$api_port" "$reconciler"
  start_controllers
  log "control plane '$NAME' up at $server in $((SECONDS - t0)) s"
  print_env
}

cmd_env() {
  [[ -f $RUN/ports.env ]] || die "control plane '$NAME' is not up (no $RUN/ports.env)"
  print_env
}

cmd_status() {
  [[ -f $RUN/ports.env ]] || { log "control plane '$NAME' is not up"; exit 1; }
  local n rc=0 pid
  for n in "${COMPONENTS[@]}"; do
    if pid=$(pid_of "$n"); then echo "$n running (pid $pid)"; else echo "$n NOT running"; rc=1; fi
  done
  if ready; then echo "apiserver ready"; else echo "apiserver NOT ready"; rc=1; fi
  exit "$rc"
}

cmd_down() {
  take_lock "run-$NAME"
  [[ -d $RUN ]] || { log "nothing to do: $RUN does not exist"; return; }
  stop_all
  rm -rf "$RUN"
  log "removed control plane '$NAME'"
}

# ---------------------------------------------------------------- the pieces, in start order

# Certificates and kubeconfigs from kubeadm's own phases, written only under $RUN (no preflight, no /etc).
kubeadm_phases() {
  local port=$1 endpoint=$ADDR:$1; shift
  run_logged kubeadm-certs "$BIN/kubeadm" init phase certs all --cert-dir "$PKI" \
    --control-plane-endpoint "$endpoint" "$@" --apiserver-cert-extra-sans "$ADDR,127.0.0.1,localhost" \
    --service-cidr "$SERVICE_CIDR" --kubernetes-version "$KUBE_VERSION"
  run_logged kubeadm-kubeconfig "$BIN/kubeadm" init phase kubeconfig all --cert-dir "$PKI" --kubeconfig-dir "$KC" \
    --control-plane-endpoint "$endpoint" --apiserver-bind-port "$port" "$@" \
    --node-name "k8slab-$NAME" --kubernetes-version "$KUBE_VERSION"
  # kubeadm points controller-manager.conf and scheduler.conf at the advertise address: use the endpoint.
  local f
  for f in "$KC"/*.conf; do
    "$BIN/kubectl" --kubeconfig "$f" config set-cluster kubernetes --server="https://$endpoint" >/dev/null
  done
}

# etcd listens on loopback only, without TLS: only the apiserver of this control plane talks to it.
start_etcd() {
  local port=$1 peer=$2
  start etcd "$ETCD_BIN/etcd" --name "k8slab-$NAME" --data-dir "$RUN/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "k8slab-$NAME=http://127.0.0.1:$peer" --initial-cluster-state new --log-level warn
  wait_for etcd 20 "$ETCD_BIN/etcdctl" --endpoints "http://127.0.0.1:$port" --dial-timeout=1s endpoint health
}

start_apiserver() {
  local etcd_port=$1 port=$2 reconciler=$3
  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers="http://127.0.0.1:$etcd_port" \
    --bind-address="$ADDR" --advertise-address="$ADDR" --secure-port="$port" \
    --endpoint-reconciler-type="$reconciler" \
    --client-ca-file="$PKI/ca.crt" --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
    --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types=InternalIP,ExternalIP,Hostname \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --enable-bootstrap-token-auth=true --allow-privileged=true \
    --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
    --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-extra-headers-prefix=X-Remote-Extra- --requestheader-group-headers=X-Remote-Group \
    --requestheader-username-headers=X-Remote-User
  wait_for kube-apiserver 90 kubectl_ get --raw /readyz
  # admin.conf's user is in group kubeadm:cluster-admins, which kubeadm init binds to cluster-admin with
  # super-admin.conf (system:masters); do the same, so admin.conf has the rights it has on a kubeadm cluster.
  run_logged rbac "$BIN/kubectl" --kubeconfig "$KC/super-admin.conf" --request-timeout=10s create clusterrolebinding \
    kubeadm:cluster-admins --clusterrole=cluster-admin --group=kubeadm:cluster-admins
}

# The controller-manager and the scheduler serve nothing (--secure-port=0) and do not elect leaders.
start_controllers() {
  start kube-controller-manager "$BIN/kube-controller-manager" \
    --kubeconfig="$KC/controller-manager.conf" --secure-port=0 --leader-elect=false \
    --use-service-account-credentials=true --controllers='*,bootstrap-signer-controller,token-cleaner-controller' \
    --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/sa.key" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --cluster-cidr="$POD_CIDR" --allocate-node-cidrs=true
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig="$KC/scheduler.conf" --secure-port=0 --leader-elect=false
  # Ready when the ServiceAccount controller has made "default": admission rejects pods until then.
  wait_for kube-controller-manager 90 kubectl_ -n default get serviceaccount default
  pid_of kube-scheduler >/dev/null || fail_with_log kube-scheduler "kube-scheduler exited"
}

print_env() {
  local ADDRESS APISERVER_PORT ETCD_PORT
  . "$RUN/ports.env"
  echo "KUBECONFIG=$KC/admin.conf"
  echo "K8SLAB_TESTBED_NAME=$NAME"
  echo "K8SLAB_TESTBED_BIN=$BIN"
  echo "K8SLAB_KUBERNETES_VERSION=$KUBE_VERSION"
  echo "K8SLAB_APISERVER=https://$ADDRESS:$APISERVER_PORT"
  echo "K8SLAB_ETCD_ENDPOINT=http://127.0.0.1:$ETCD_PORT"
  echo "K8SLAB_ETCDCTL=$ETCD_BIN/etcdctl"
  echo "K8SLAB_KUBELET_KUBECONFIG=$KC/kubelet.conf"
  echo "K8SLAB_PKI_DIR=$PKI"
}

# ---------------------------------------------------------------- process helpers

kubectl_() { "$BIN/kubectl" --kubeconfig "$KC/admin.conf" --request-timeout=5s "$@"; }
ready() { kubectl_ get --raw /readyz >/dev/null 2>&1; }

# A pid file holds "PID STARTTIME" (field 22 of /proc/PID/stat), so a reused PID is never signalled.
start_time() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
pid_of() {
  local pid st
  read -r pid st 2>/dev/null <"$RUN/pids/$1.pid" || return 1
  [[ -n $st && $(start_time "$pid") == "$st" ]] && echo "$pid"
}

# start NAME COMMAND...: detached in its own session, logging to logs/NAME.log. The inner shell writes its
# own PID and then execs, so the pid file names the component itself. The lock stays with this script.
start() {
  local n=$1 pid; shift
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$RUN/pids/$n.pid.new" "$@" \
    >"$RUN/logs/$n.log" 2>&1 </dev/null {_lock_fd}>&- &
  local i
  for ((i = 0; i < 50; i++)); do [[ -s $RUN/pids/$n.pid.new ]] && break; sleep 0.1; done
  pid=$(cat "$RUN/pids/$n.pid.new")
  echo "$pid $(start_time "$pid")" >"$RUN/pids/$n.pid"
  rm -f "$RUN/pids/$n.pid.new"
  log "started $n (pid $pid, log $RUN/logs/$n.log)"
}

# wait_for NAME SECONDS COMMAND...: until COMMAND succeeds; gives up early when NAME's process has exited.
wait_for() {
  local n=$1 limit=$2 deadline; shift 2
  deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    pid_of "$n" >/dev/null || fail_with_log "$n" "$n exited"
    ((SECONDS < deadline)) || fail_with_log "$n" "$n not ready after $limit s"
    sleep 0.5
  done
}

run_logged() { local n=$1; shift; "$@" >"$RUN/logs/$n.log" 2>&1 || fail_with_log "$n" "$n failed"; }

fail_with_log() {
  log "last lines of $RUN/logs/$1.log:"
  tail -n 25 "$RUN/logs/$1.log" >&2 || true
  stop_all
  die "$2 (state kept in $RUN; remove it with: $0 down --name $NAME)"
}

stop_all() {
  local i n pid
  for ((i = ${#COMPONENTS[@]} - 1; i >= 0; i--)); do
    n=${COMPONENTS[i]}
    if pid=$(pid_of "$n"); then
      kill -TERM "$pid" 2>/dev/null || true
      local t
      for ((t = 0; t < 40; t++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; log "killed $n (pid $pid)"; fi
    fi
    rm -f "$RUN/pids/$n.pid"
  done
}

all_running() { local n; for n in "${COMPONENTS[@]}"; do pid_of "$n" >/dev/null || return 1; done; }

# free_port [EXCLUDED...]: a TCP port nothing listens on now.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 40000))
    [[ " $* " == *" $p "* ]] && continue
    ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}

usage_error() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  die "$1"
}

main "$@"
