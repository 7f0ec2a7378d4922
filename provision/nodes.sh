#!/usr/bin/env bash
# Which node of the lab is this machine? The answer is the planned private address that is assigned to
# one of its interfaces; never the NAT address, which is the same on every VirtualBox VM.

# local_ipv4s: every IPv4 address of this machine, one per line.
local_ipv4s() {
  ip -4 -o addr show | awk '{ sub(/\/.*/, "", $4); print $4 }'
}

# node_index IP...: prints the 0-based position of the first IP that this machine has; fails if none.
node_index() {
  local mine ip i=0
  mine=$(local_ipv4s) || return 1
  for ip in "$@"; do
    if grep -qxF -- "$ip" <<<"$mine"; then
      printf '%s\n' "$i"
      return 0
    fi
    i=$((i + 1))
  done
  return 1
}
