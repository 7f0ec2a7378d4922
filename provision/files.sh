#!/usr/bin/env bash
# put_file PATH MODE < CONTENT: writes CONTENT to PATH (parents created) unless PATH holds exactly that
# already. Returns 0 when it wrote the file and 1 when it was already right, so a caller restarts a
# service only on change: `if put_file ...; then systemctl restart ...; fi`.
put_file() {
  local path=$1 mode=$2 tmp
  tmp=$(mktemp) || die "cannot create a temporary file"
  cat >"$tmp" || die "cannot buffer the content of $path"
  if [[ -f $path ]] && cmp -s "$tmp" "$path"; then
    rm -f "$tmp"
    return 1
  fi
  install -D -m "$mode" "$tmp" "$path" || die "cannot write $path"
  rm -f "$tmp"
  log "wrote $path"
  return 0
}
