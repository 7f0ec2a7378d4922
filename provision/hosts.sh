#!/usr/bin/env bash
# The lab's names in /etc/hosts, as one marked block that a re-run replaces in place (never appends twice).
K8SLAB_HOSTS_BEGIN='# BEGIN k8slab nodes (written by config.sh; replaced on every run)'
K8SLAB_HOSTS_END='# END k8slab nodes'

# write_hosts_block FILE LINE...: puts LINEs ("IP NAME") between the markers in FILE, replacing the old
# block or appending a new one. Everything outside the block stays as it was; the file keeps its inode.
write_hosts_block() {
  local file=$1 tmp line
  shift
  tmp=$(mktemp) || die "cannot create a temporary file"
  awk -v b="$K8SLAB_HOSTS_BEGIN" -v e="$K8SLAB_HOSTS_END" \
    '$0 == b { skip = 1; next } $0 == e { skip = 0; next } !skip' "$file" >"$tmp" ||
    die "cannot read $file"
  {
    printf '%s\n' "$K8SLAB_HOSTS_BEGIN"
    for line in "$@"; do printf '%s\n' "$line"; done
    printf '%s\n' "$K8SLAB_HOSTS_END"
  } >>"$tmp"
  if ! cmp -s "$tmp" "$file"; then
    cat "$tmp" >"$file" || die "cannot write $file"
  fi
  rm -f "$tmp"
}
