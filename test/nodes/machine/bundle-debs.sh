#!/bin/bash
# bundle-debs.sh DIR - fetch the node runtime packages an offline bundle carries (containerd, runc, CNI
# plugins, conntrack ...) and their dependencies into DIR, from the host's Debian apt sources. The VM tier
# gets these from box.sh's .deb cache; the node tier builds no VM box, so it fetches them itself.
# scripts/bundle-from-testbed.sh reads DIR through K8SLAB_TESTBED_DEBS. Idempotent: present files stay.
set -euo pipefail
DIR=${1:?usage: bundle-debs.sh DIR}
# the list scripts/bundle-from-testbed.sh bundles (what a node needs besides Kubernetes itself)
mapfile -t NODE_PKGS < <("$(dirname "$0")/../../../scripts/bundle-from-testbed.sh" --packages)
mkdir -p "$DIR"
cd "$DIR"
# the dependency closure, as bundle-from-testbed.sh computes it (it leaves out priority required and
# important: every Debian system has those)
mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances "${NODE_PKGS[@]}" 2>/dev/null | grep -E '^[a-z0-9]' | sort -u)
# one apt-cache call for every priority (one call per package takes minutes on a busy host)
declare -A prio=()
while read -r pkg p; do [[ -n ${prio[$pkg]:-} ]] || prio[$pkg]=$p; done < <(
  apt-cache show --no-all-versions "${closure[@]}" 2>/dev/null | awk '/^Package: /{p=$2} /^Priority: /{print p, $2}' || true)
want=()
for pkg in "${closure[@]}"; do
  p=${prio[$pkg]:-}
  [[ -z $p || $p == required || $p == important ]] && continue
  compgen -G "${pkg}_*.deb" >/dev/null || want+=("$pkg")
done
if ((${#want[@]} > 0)); then
  echo "bundle-debs: downloading ${#want[@]} packages: ${want[*]}" >&2
  apt-get download -q "${want[@]}" >&2
fi
echo "$DIR"
