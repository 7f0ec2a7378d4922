#!/bin/bash
# rootfs.sh - build the nodes' Debian 12 root filesystem once and cache it; print its directory.
#
# Every node boots an overlay over this tree (the launcher in ../machines.ts), so it holds only what a
# freshly installed small Debian machine has, plus the machine-level pieces a system container needs
# to look like a VM to kubelet. No Kubernetes bits: the product's own scripts install those.
#
# The cache key is this file's content (package list + configuration), so a changed recipe builds a
# new tree; older trees no node is using are removed. Build time and inputs go to build.json beside it.
#
# Environment: K8SLAB_NODES_CACHE (default /var/cache/k8slab-nodes), K8SLAB_NODES_MIRROR (default:
# the host's apt source for bookworm main).
set -euo pipefail

SUITE=bookworm
# a minimal machine someone would SSH into: systemd, sshd, networking, curl. No sudo (root logs in
# with a key) and no rsync: the product must cope without both.
PACKAGES=(systemd systemd-sysv dbus openssh-server iproute2 iputils-ping netbase procps kmod curl
  ca-certificates)

CACHE=${K8SLAB_NODES_CACHE:-/var/cache/k8slab-nodes}
KEY=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-12)
DEST=$CACHE/rootfs/$KEY
log() { printf '%s rootfs: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ -f $DEST/.complete ]]; then echo "$DEST"; exit 0; fi
[[ $(id -u) == 0 ]] || die "needs root (debootstrap, chroot)"

mirror=${K8SLAB_NODES_MIRROR:-}
if [[ -z $mirror ]]; then
  # shellcheck disable=SC2016  # apt-get's own placeholders
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' 'Created-By: Packages' 2>/dev/null |
    awk -v s="$SUITE" '$2 == s && $3 == "main" { print $1; exit }')
fi
mirror=${mirror:-http://deb.debian.org/debian}

t0=$(date +%s)
BUILD=$CACHE/rootfs/.build-$KEY
rm -rf "$BUILD"
mkdir -p "$BUILD" "$CACHE/debs"
log "debootstrap $SUITE minbase from $mirror into $BUILD (log: $CACHE/rootfs/build-$KEY.log)"
debootstrap --variant=minbase --include="$(IFS=,; echo "${PACKAGES[*]}")" --cache-dir="$CACHE/debs" \
  "$SUITE" "$BUILD" "$mirror" >"$CACHE/rootfs/build-$KEY.log" 2>&1 ||
  { tail -n 20 "$CACHE/rootfs/build-$KEY.log" >&2; die "debootstrap failed"; }

R=$BUILD
in_root() { chroot "$R" "$@" >/dev/null 2>&1; }

# --- PID 1 wrapper. systemd-nspawn mounts the cgroup v1 controller hierarchies read-only; kubelet and
# runc inside must create cgroups there. Remount them read-write, then become systemd.
install -d "$R/usr/local/sbin"
cat >"$R/usr/local/sbin/k8slab-node-init" <<'EOS'
#!/bin/sh
for d in /sys/fs/cgroup/*; do
  mountpoint -q "$d" || continue
  mount -o remount,bind,rw "$d" || echo "k8slab-node-init: cannot remount $d read-write" >&2
done
exec /lib/systemd/systemd "$@"
EOS
chmod 755 "$R/usr/local/sbin/k8slab-node-init"

# --- Host-global sysctls kubelet writes at start (vm.overcommit_memory, kernel.panic ...). In a
# container /proc/sys is read-only outside net.*, and kubelet stops on the write error. Each node gets
# private files over them, starting from the host's values: kubelet changes its own copy, never the host.
cat >"$R/usr/local/sbin/k8slab-node-sysctls" <<'EOS'
#!/bin/sh
set -u
mkdir -p /run/k8slab-node-sysctls
for key in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops \
  kernel/keys/root_maxkeys kernel/keys/root_maxbytes; do
  f=/proc/sys/$key
  [ -e "$f" ] || continue
  [ -w "$f" ] && continue    # writable (a VM, or a container that got them): nothing to do
  copy=/run/k8slab-node-sysctls/$(echo "$key" | tr / .)
  cat "$f" >"$copy"
  mount --bind "$copy" "$f" || echo "k8slab-node-sysctls: cannot bind over $f" >&2
done
EOS
chmod 755 "$R/usr/local/sbin/k8slab-node-sysctls"
cat >"$R/etc/systemd/system/k8slab-node-sysctls.service" <<'EOS'
[Unit]
Description=Private copies of the read-only host-global sysctls kubelet writes (system container)
DefaultDependencies=no
ConditionVirtualization=container
After=local-fs.target
Before=sysinit.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/k8slab-node-sysctls

[Install]
WantedBy=sysinit.target
EOS
in_root systemctl enable k8slab-node-sysctls.service

# --- sshd: per-node host keys made on first boot (none in the shared tree); key logins only.
rm -f "$R"/etc/ssh/ssh_host_*
install -d "$R/etc/systemd/system/ssh.service.d"
printf '[Service]\nExecStartPre=\nExecStartPre=/usr/bin/ssh-keygen -A\nExecStartPre=/usr/sbin/sshd -t\n' \
  >"$R/etc/systemd/system/ssh.service.d/k8slab-host-keys.conf"
printf 'UseDNS no\nPasswordAuthentication no\nPermitRootLogin prohibit-password\n' \
  >"$R/etc/ssh/sshd_config.d/k8slab-nodes.conf"

# --- network: systemd-networkd on host0 (the launcher writes each node's address); no DNS server.
in_root systemctl enable systemd-networkd.service
printf 'options timeout:1 attempts:1\n' >"$R/etc/resolv.conf"

# --- what a container does not need: consoles, timers, the clock (it is the host's).
for unit in console-getty.service getty@.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer fstrim.timer systemd-timesyncd.service; do
  in_root systemctl mask "$unit" || true
done

# each node writes its own machine-id (kubeadm wants them unique)
: >"$R/etc/machine-id"
rm -f "$R/var/lib/dbus/machine-id"
rm -rf "$R/var/cache/apt/archives/"*.deb "$R/var/lib/apt/lists/"*

seconds=$(($(date +%s) - t0))
printf '{"key":"%s","suite":"%s","mirror":"%s","packages":"%s","seconds":%d,"built":"%s"}\n' \
  "$KEY" "$SUITE" "$mirror" "${PACKAGES[*]}" "$seconds" "$(date -u +%FT%TZ)" >"$BUILD/../build-$KEY.json"
touch "$BUILD/.complete"
rm -rf "$DEST"
mv "$BUILD" "$DEST"
mv "$CACHE/rootfs/build-$KEY.json" "$DEST.json"
log "built $DEST in ${seconds}s"

# older recipes' trees, unless a node's overlay still uses one
for old in "$CACHE"/rootfs/*/; do
  old=${old%/}
  [[ $old == "$DEST" ]] && continue
  if grep -q "lowerdir=$old[,:]" /proc/self/mountinfo; then continue; fi
  rm -rf "$old" "$old.json" "$CACHE/rootfs/build-${old##*/}.log"
done
echo "$DEST"
