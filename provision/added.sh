#!/usr/bin/env bash
# What install_pkg.sh adds to a machine, recorded so that `teardown.sh --purge` (provider: machines)
# removes exactly that: the packages and files that appeared while it ran, never what was there before.
K8SLAB_ADDED=/var/lib/k8slab/added
# Where install_pkg.sh and its partials put files: release binaries, units, CNI plugins, package sources.
K8SLAB_ADDED_DIRS=(/usr/local/bin /usr/local/sbin /usr/local/lib/systemd/system /opt/cni/bin
  /etc/systemd/system/kubelet.service.d /etc/apt/sources.list.d /etc/apt/keyrings /etc/yum.repos.d)

# installed_state: "package NAME" for each installed package and "file PATH" for each file in
# K8SLAB_ADDED_DIRS (and the kubelet unit), sorted.
installed_state() {
  {
    if command -v dpkg-query >/dev/null; then
      dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' 2>/dev/null | awk '$1 == "ii" { print "package " $2 }'
    elif command -v rpm >/dev/null; then
      rpm -qa --qf 'package %{NAME}\n' 2>/dev/null
    fi
    # a missing folder is simply empty (find exits 1 for it, which must not end the script)
    find "${K8SLAB_ADDED_DIRS[@]}" /etc/systemd/system/kubelet.service -maxdepth 1 \( -type f -o -type l \) 2>/dev/null |
      sed 's/^/file /' || true
  } | LC_ALL=C sort -u
}

# record_added BEFORE: appends to K8SLAB_ADDED what installed_state lists now and BEFORE did not.
record_added() {
  local new
  new=$(LC_ALL=C comm -13 <(printf '%s\n' "$1") <(installed_state))
  [[ -n $new ]] || return 0
  install -d -m 0755 "$(dirname "$K8SLAB_ADDED")"
  printf '%s\n' "$new" >>"$K8SLAB_ADDED"
  log "recorded $(grep -c . <<<"$new") packages and files as added by the lab ($K8SLAB_ADDED)"
}
