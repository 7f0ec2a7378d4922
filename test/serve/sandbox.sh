#!/usr/bin/env bash
# sandbox.sh BOX ADDRESS CA CMD...: runs CMD as a throw-away Debian "node" of the served internet.
# Call it inside the test's network namespace and a private mount namespace
# (ip netns exec NS unshare -m --propagation private sandbox.sh ...). Everything a node would change is a
# private copy under BOX, bound over the host's path, so the host is untouched and BOX keeps the node's
# state between calls:
#   /etc/hosts, /etc/ssl/certs, /usr/local (empty: the node's containerd and runc land there),
#   /etc/apt (the host's, with Debian 12's own sources only), /var/lib/apt, /var/cache/apt, /var/lib/dpkg.
# The first call runs bench/serve/node-setup.sh ADDRESS CA in it, as a lab node would.
set -euo pipefail
box=$1 address=$2 ca=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)

if [[ ! -e $box/.ready ]]; then
  mkdir -p "$box/lib-apt/lists/partial" "$box/cache-apt/archives/partial" "$box/local" "$box/apt"
  # /usr/local as Debian's base-files leaves it on a fresh node.
  mkdir -p "$box"/local/{bin,etc,games,include,lib,man,sbin,share,src}
  cp /etc/hosts "$box/hosts"
  cp -a /etc/ssl/certs "$box/certs"
  cp -a /etc/apt/. "$box/apt/"
  rm -rf "$box/apt/sources.list" "$box/apt/sources.list.d"/*
  # Debian 12's default sources: the node's distribution apt, which must work through the served address.
  cat >"$box/apt/sources.list.d/debian.sources" <<'SOURCES'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
  cp -a /var/lib/dpkg "$box/dpkg"
fi

mount --bind "$box/hosts" /etc/hosts
mount --bind "$box/certs" /etc/ssl/certs
mount --bind "$box/local" /usr/local
mount --bind "$box/apt" /etc/apt
mount --bind "$box/lib-apt" /var/lib/apt
mount --bind "$box/cache-apt" /var/cache/apt
mount --bind "$box/dpkg" /var/lib/dpkg

if [[ ! -e $box/.ready ]]; then
  "$here/../../bench/serve/node-setup.sh" "$address" "$ca"
  touch "$box/.ready"
fi
exec "$@"
