#!/usr/bin/env bash
# Kubernetes 1.35 made kubelet refuse cgroup v1 unless its configuration says failCgroupV1: false, and
# kubeadm's SystemVerification preflight turned the cgroup v1 warning into an error (KEP-5573). Machines
# still on cgroup v1 (older distributions, hybrid hosts, system containers on them) keep working when both
# are told; the log says so, since support for cgroup v1 is on its way out.

# cgroup_fs [ROOT]: the file system type at ROOT (/sys/fs/cgroup): cgroup2fs on a unified (v2) machine.
cgroup_fs() {
  stat -fc %T "${1:-/sys/fs/cgroup}/" 2>/dev/null || echo unknown
}

# kubelet_needs_cgroup_v1_opt_in MINOR [ROOT]: true when kubelet MINOR (35 for 1.35) would refuse this
# machine's cgroups unless told otherwise.
kubelet_needs_cgroup_v1_opt_in() {
  (($1 >= 35)) && [[ $(cgroup_fs "${2:-}") != cgroup2fs ]]
}
