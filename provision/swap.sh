#!/usr/bin/env bash
# kubelet refuses to run with swap on (by default): turn it off now and for every later boot.

# comment_swap_in_fstab FILE: comments out each active swap entry; entries already commented stay as they are.
comment_swap_in_fstab() {
  sed -i -E 's/^([^#[:space:]][^[:space:]]*[[:space:]]+[^[:space:]]+[[:space:]]+swap([[:space:]].*)?)$/#\1/' "$1"
}

# disable_swap: swapoff, /etc/fstab, and systemd swap units (zram and the like) masked.
disable_swap() {
  local unit
  swapoff -a
  comment_swap_in_fstab /etc/fstab
  command -v systemctl >/dev/null || return 0
  while read -r unit _; do
    if [[ -n $unit ]]; then
      systemctl mask --now "$unit" >/dev/null 2>&1 || warn "could not mask the swap unit $unit"
    fi
  done < <(systemctl list-units --type=swap --all --plain --no-legend 2>/dev/null)
}
