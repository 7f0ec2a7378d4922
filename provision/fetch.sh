#!/usr/bin/env bash
# fetch URL FILE: downloads URL to FILE once (a pinned URL never changes), through a temporary name so an
# interrupted download never looks complete.
fetch() {
  local url=$1 file=$2
  if [[ -s $file ]]; then return 0; fi
  mkdir -p "$(dirname "$file")"
  retry 5 5 curl -fsSL --connect-timeout 20 -o "$file.part" "$url" || die "cannot download $url"
  mv "$file.part" "$file"
}
