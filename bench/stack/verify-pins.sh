#!/usr/bin/env bash
# Checks every build module under bench/stack/modules: `go mod verify` (the downloaded modules match go.sum)
# and, for each module a command comes from, that the build selects exactly the versions that module's own
# go.mod requires, so the binaries are built from the dependency set upstream released with.
# Prints one line per build module and exits non-zero on the first mismatch.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
status=0
for mod in "$here"/modules/*/*/; do
  mod=${mod%/}
  name=${mod#"$here/modules/"}
  # A module replaced by itself at another version (Kubernetes' staging modules) counts at the replacement's
  # version; one replaced by a fork or a directory (traefik) at the version required, as upstream's go.mod says.
  # -e: traefik's go.mod names modules the proxy refuses to describe (403), though the build needs none of them.
  selected=$(cd "$mod" && go list -m -e all | awk 'NF>=2{print $1, ($3 == "=>" && $4 != $1) ? $2 : $NF}' | sort)
  (cd "$mod" && go mod verify >/dev/null) || { echo "FAIL $name: go mod verify"; status=1; continue; }
  # The modules the tools come from (for Kubernetes, k8s.io/kubernetes: its staging requires are v0.0.0).
  mapfile -t sources < <(cd "$mod" && go list -f '{{.Module.Path}}@{{.Module.Version}}' tool | sort -u)
  bad=""
  for src in "${sources[@]}"; do
    gomod=$(cd "$mod" && go mod download -json "$src" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
    # Upstream's pins; v0.0.0 marks a staging module that the build module replaces with the published one,
    # and the zero pseudo-version a module upstream takes only through a replace (its target decides).
    mism=$(awk '/^require[ \t]*\(/{r=1;next} r&&/^\)/{r=0} r&&NF>=2{print $1, $2} /^require [^(]/{print $2, $3}' "$gomod" |
      grep -v -e ' v0.0.0$' -e ' v0.0.0-00010101000000-000000000000$' | sort | join - <(echo "$selected") | awk '$2!=$3{print $1" upstream "$2" selected "$3}')
    [[ -z $mism ]] || bad+="$src: $mism"$'\n'
  done
  if [[ -n $bad ]]; then echo "FAIL $name:"; echo "$bad"; status=1; else echo "ok   $name (${sources[*]})"; fi
done
exit $status
