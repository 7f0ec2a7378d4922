# shellcheck shell=bash
# Shared by scripts/bundle-from-*.sh (sourced): putting files into an offline bundle. The caller sets
# BUNDLE_LOG_NAME and OUT. Files are hard-linked when OUT is on the cache's filesystem (no extra disk),
# copied otherwise; a file already there with the same content is left alone, so a re-run only checks.

log() { printf '%s %s: %s\n' "$(date -u +%H:%M:%S)" "$BUNDLE_LOG_NAME" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# link_or_copy SRC DST: a hard link when possible, else a copy; nothing when DST is already SRC's content.
link_or_copy() {
  if [[ -f $2 ]] && { [[ $1 -ef $2 ]] || cmp -s "$1" "$2"; }; then return 0; fi
  rm -f "$2"
  ln "$1" "$2" 2>/dev/null || cp "$1" "$2"
}

# bundle_debs DEB_DIR HINT PKG...: each PKG and its dependency closure from DEB_DIR into OUT/debs/, minus what
# every Debian system has (priority required/important: replacing those from a cache could downgrade a
# newer box). HINT says how to fill DEB_DIR when a PKG is missing from it.
bundle_debs() {
  local debs=$1 hint=$2 pkg prio f n=0 files closure
  shift 2
  mkdir -p "$OUT/debs"
  mapfile -t closure < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$@" 2>/dev/null | grep -E '^[a-z0-9]' | sort -u)
  # every priority from one apt-cache call (one call per package takes minutes on a busy host)
  local -A priority=()
  while read -r pkg prio; do [[ -n ${priority[$pkg]:-} ]] || priority[$pkg]=$prio; done < <(
    apt-cache show --no-all-versions "${closure[@]}" 2>/dev/null | awk '/^Package: /{p=$2} /^Priority: /{print p, $2}' || true)
  for pkg in "${closure[@]}"; do
    prio=${priority[$pkg]:-}
    [[ $prio == required || $prio == important ]] && continue
    shopt -s nullglob
    files=("$debs/${pkg}_"*_amd64.deb "$debs/${pkg}_"*_all.deb)
    shopt -u nullglob
    ((${#files[@]} > 0)) || continue
    # newest cached version only
    f=$(printf '%s\n' "${files[@]}" | sort -V | tail -n 1)
    link_or_copy "$f" "$OUT/debs/${f##*/}"
    n=$((n + 1))
  done
  for pkg in "$@"; do
    compgen -G "$OUT/debs/${pkg}_*.deb" >/dev/null || die "$pkg is not in $debs: $hint"
  done
  log "debs/: $n packages ($* and their dependencies)"
}

# bundle_images INDEX...: the tarballs each image index lists into OUT/images/, and one OUT/images/index.json
# over all of them, without host paths (the bundle is read from wherever it is mounted). An entry's tarball
# is its file beside the index, else its recorded path (an index may name files elsewhere).
bundle_images() {
  local index dir name path src
  mkdir -p "$OUT/images"
  for index in "$@"; do
    dir=$(dirname "$index")
    while IFS=$'\t' read -r name path; do
      src=$dir/$name
      [[ -f $src || -z $path ]] || src=$path
      [[ -f $src ]] || die "$index names $name, which is neither in $dir nor at '$path'"
      link_or_copy "$src" "$OUT/images/$name"
    done < <(jq -r '(if type == "array" then . else .images end)[]
      | [(.file | split("/") | last), (.path // (if (.file | startswith("/")) then .file else "" end))] | @tsv' "$index")
  done
  jq -s '{ format: "docker-archive", images: [ .[] | (if type == "array" then . else .images end)[]
      | { file: (.file | split("/") | last), images: (.images // [.image]), size, sha256 }
      | with_entries(select(.value != null)) ] }' "$@" \
    >"$OUT/images/index.json.tmp"
  mv "$OUT/images/index.json.tmp" "$OUT/images/index.json"
  log "images/: $(jq '.images | length' "$OUT/images/index.json") tarballs"
}

# bundle_cni_plugins DIR: the plugins `cni: bridge` uses (bridge host-local loopback portmap) from DIR.
bundle_cni_plugins() {
  local p
  mkdir -p "$OUT/cni"
  for p in bridge host-local loopback portmap; do
    [[ -x $1/$p ]] || die "$1 has no CNI plugin $p"
    cmp -s "$1/$p" "$OUT/cni/$p" || install -m 0755 "$1/$p" "$OUT/cni/$p"
  done
  log "cni/: bridge host-local loopback portmap"
}
