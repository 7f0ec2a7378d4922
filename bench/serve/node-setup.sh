#!/usr/bin/env bash
# Points one lab node (Debian or Ubuntu) at the served internet, and changes nothing else:
#   - /etc/hosts: one block naming exactly the served hosts (lib.sh HTTPS_NAMES and HTTP_NAMES) at ADDRESS;
#   - the CA (ca.sh) in the node's trust store (update-ca-certificates), which curl, apt's https and
#     containerd's registry client (Go's crypto/x509 reads /etc/ssl/certs/ca-certificates.crt) all use.
# Safe to run again: the block and the CA are replaced, not added twice.
#
#   node-setup.sh ADDRESS CA.crt     run ON the node (as root), e.g. over ssh after copying the two files
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
address=${1:-} ca=${2:-}
need_ipv4 "$address" ADDRESS
{ [[ -s $ca ]] && openssl x509 -in "$ca" -noout 2>/dev/null; } || die "CA '$ca' is not a PEM certificate (bench/serve/ca.sh writes \$SERVE_CACHE/pki/ca.crt)"
command -v update-ca-certificates >/dev/null || die "update-ca-certificates is missing: this helper is for Debian/Ubuntu nodes (apt-get install ca-certificates)"

begin='# k8slab serve: begin' end='# k8slab serve: end'
hosts=$(mktemp)
# Whatever was there stays, minus an earlier block of ours.
sed "/^$begin\$/,/^$end\$/d" /etc/hosts >"$hosts"
{
  echo "$begin"
  for n in $HTTPS_NAMES $HTTP_NAMES; do echo "$address $n"; done
  echo "$end"
} >>"$hosts"
# Written in place (cat, not mv): /etc/hosts is often a bind mount in containers.
cat "$hosts" >/etc/hosts
rm -f "$hosts"

install -D -m 0644 "$ca" /usr/local/share/ca-certificates/k8slab-serve.crt
update-ca-certificates >/dev/null
read -ra names <<<"$HTTPS_NAMES $HTTP_NAMES"
log "node: ${#names[@]} names at $address, CA trusted"
