#!/usr/bin/env bash
# Makes the lab's own CA and one server certificate naming every HTTPS host the lab fetches from
# (lib.sh HTTPS_NAMES). Nodes trust the CA (node-setup.sh); the server (serve.mjs) presents the certificate.
# Kept once made: a re-run only checks, so nodes that trust the CA keep trusting it.
#
#   ca.sh            writes $SERVE_CACHE/pki/{ca.crt,ca.key,server.crt,server.key}
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
pki=$SERVE_CACHE/pki
mkdir -p "$pki"
chmod 0700 "$pki"

if [[ ! -s $pki/ca.crt || ! -s $pki/ca.key ]]; then
  log "CA: new (k8slab serve CA, 10 years)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
    -subj '/CN=k8slab serve CA' -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
fi

san=
for n in $HTTPS_NAMES; do san+="${san:+,}DNS:$n"; done
# The certificate is remade when the name list changes (its SAN no longer matches).
if [[ ! -s $pki/server.crt ]] || ! openssl x509 -in "$pki/server.crt" -noout -ext subjectAltName 2>/dev/null |
  tr -d ' \n' | grep -qxF "X509v3SubjectAlternativeName:$san" ||
  ! openssl verify -CAfile "$pki/ca.crt" "$pki/server.crt" >/dev/null 2>&1; then
  log "server certificate: new, for $HTTPS_NAMES"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj '/CN=k8slab serve' \
    -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
  openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 825 \
    -extfile <(printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n' "$san") \
    -out "$pki/server.crt" 2>/dev/null
  rm -f "$pki/server.csr"
fi
chmod 0600 "$pki/ca.key" "$pki/server.key"
log "pki ready: $pki/ca.crt"
