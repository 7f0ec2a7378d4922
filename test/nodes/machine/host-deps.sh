#!/bin/sh
# host-deps.sh - install what the system-container node tier needs on the host (Debian 12, root).
# `npm run test:nodes` runs it first, so a clean machine needs nothing else. Idempotent: apt is only
# asked when a tool is missing.
#
#   systemd-nspawn   systemd-container   runs each node: systemd as PID 1 in its own namespaces
#   debootstrap      debootstrap         builds the nodes' Debian 12 root filesystem once (cached)
#   iptables         iptables            the bridge's FORWARD accept rule
#   ip               iproute2            the private bridge
#   findmnt, setsid  util-linux          mounts of the tier; the launcher's own session
set -eu

need=""
for pair in systemd-nspawn:systemd-container debootstrap:debootstrap iptables:iptables ip:iproute2 \
  findmnt:util-linux setsid:util-linux; do
  tool=${pair%%:*}
  pkg=${pair#*:}
  command -v "$tool" >/dev/null 2>&1 || need="$need $pkg"
done
# debootstrap checks the archive's signature with the host's keyring
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need="$need debian-archive-keyring"
[ -z "$need" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "host-deps.sh: missing packages:$need; run as root (apt-get install$need)" >&2
  exit 1
fi
echo "host-deps.sh: installing$need" >&2
# an apt-get update only when the package lists are missing (a fresh image); otherwise the cached lists
if ! apt-cache show $need >/dev/null 2>&1; then apt-get update -qq; fi
# shellcheck disable=SC2086  # a list of package names
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >&2
