# shellcheck shell=bash disable=SC2154  # sourced: $here, pack, copy, go_component come from the sourcing script
# The lab's add-ons (sourced by build.sh and images.sh): MetalLB and local-path-provisioner, their images
# under the names their upstream manifests use, and those manifests, taken from the same module zips.
#
#   build.sh lab-addons    binaries in $STACK_CACHE/bin/{metallb,local-path-provisioner}/VERSION/, manifests in
#                          $STACK_CACHE/manifests/ADDON/VERSION/FILE (src/bundle/addons.ts's paths) + index.json
#   images.sh metallb-controller metallb-speaker local-path-provisioner busybox
#
# The NFS provisioner is not here: the module proxy refuses it (bench/stack/README.md, "Add-ons").

# MetalLB: the lab defaults to 0.16.2, which cannot be built here: it requires github.com/metallb/frr-k8s
# v0.0.27, whose zip the proxy refuses (403), and the served v0.0.21 lacks the API it uses. v0.15.2 builds
# with upstream's own pins (frr-k8s v0.0.20). bench/stack/README.md, "Add-ons".
METALLB_VERSION=v0.15.2
# local-path-provisioner: the lab defaults to 0.0.37, but v0.0.30 is the only version the proxy serves.
LOCAL_PATH_VERSION=v0.0.30

# ---------------------------------------------------------------- build (build.sh)

build_lab_addons() {
  build_metallb
  build_local_path
  take_manifest metallb "$METALLB_VERSION" go.universe.tf/metallb config/manifests/metallb-native.yaml \
    "metallb/metallb/$METALLB_VERSION/config/manifests/metallb-native.yaml" \
    "quay.io/metallb/controller:$METALLB_VERSION quay.io/metallb/speaker:$METALLB_VERSION"
  take_manifest local-path "$LOCAL_PATH_VERSION" github.com/rancher/local-path-provisioner deploy/local-path-storage.yaml \
    "rancher/local-path-provisioner/$LOCAL_PATH_VERSION/deploy/local-path-storage.yaml" \
    "rancher/local-path-provisioner:$LOCAL_PATH_VERSION busybox"
  jq -s 'sort_by(.path)' "$STACK_CACHE"/manifests/.*.json.part >"$STACK_CACHE/manifests/index.json"
}

# controller and speaker, CGO_ENABLED=0, as their Dockerfiles build them. Their ldflags set only
# internal/version.gitCommit/gitBranch from git, which the proxy does not serve: the version string says
# "0.15.2 (no build information)". The speaker image's FRR helpers (cp-tool, frr-metrics) are left out:
# metallb-native.yaml runs the speaker in L2/native mode, which starts no FRR.
build_metallb() {
  go_component metallb "$METALLB_VERSION" "" "" \
    controller=go.universe.tf/metallb/controller speaker=go.universe.tf/metallb/speaker
}

# scripts/build: CGO_ENABLED=0, -X main.VERSION=<the tag> (its "-extldflags -static" is moot without cgo).
build_local_path() {
  go_component local-path-provisioner "$LOCAL_PATH_VERSION" "" " -X main.VERSION=$LOCAL_PATH_VERSION" \
    local-path-provisioner=github.com/rancher/local-path-provisioner
}

# take_manifest ADDON VERSION MODULE FILE URLPATH "IMAGE..."
# Copies FILE of MODULE (the zip the build module's go.sum pins, so the repository's file at the tag) to
# $STACK_CACHE/manifests/ADDON/X.Y.Z/NAME, and stops when the images it runs are not exactly IMAGE...
# (the ones images.sh builds): a manifest that pulls something else would fail on an offline node.
take_manifest() {
  local addon=$1 version=$2 module=$3 file=$4 urlpath=$5 want=$6 component dir sum out got
  case $addon in metallb) component=metallb ;; local-path) component=local-path-provisioner ;; esac
  dir=$(cd "$here/modules/$component/$version" && go mod download -json "$module" | jq -r '.Dir // empty')
  [[ -n $dir && -s $dir/$file ]] || die "$module@$version has no $file"
  sum=$(awk -v m="$module" -v v="$version" '$1==m && $2==v{print $3}' "$here/modules/$component/$version/go.sum")
  got=$(sed -n 's/^[[:space:]]*image:[[:space:]]*\([^[:space:]]*\).*/\1/p' "$dir/$file" | sort -u | xargs)
  [[ $got == "$(tr ' ' '\n' <<<"$want" | sort -u | xargs)" ]] ||
    die "$module@$version $file runs the images '$got', but lab-addons.sh builds '$want': update both"
  out="$STACK_CACHE/manifests/$addon/${version#v}/${file##*/}"
  install -D -m 0644 "$dir/$file" "$out"
  jq -n --arg a "$addon" --arg v "${version#v}" --arg p "$addon/${version#v}/${file##*/}" \
    --arg u "https://raw.githubusercontent.com/$urlpath" --arg m "$module" --arg mv "$version" --arg s "$sum" \
    --arg f "$file" --arg sha "$(sha256sum "$out" | cut -c1-64)" --arg img "$got" \
    '{addon: $a, version: $v, path: $p, url: $u, origin: {module: $m, version: $mv, sum: $s, file: $f},
      sha256: $sha, images: ($img | split(" "))}' >"$STACK_CACHE/manifests/.$addon.json.part"
  log "manifest $addon ${version#v}: $out (from $module@$version $file)"
}

# ---------------------------------------------------------------- images (images.sh)

# shellcheck disable=SC2034  # read by images.sh
LAB_ADDON_IMAGES="metallb-controller metallb-speaker local-path-provisioner busybox"

# Upstream's are distroless/static with the binary at / (ENTRYPOINT ["/controller"]); the manifest runs the
# controller as 65534 (nobody, in base_files).
image_metallb_controller() {
  local b=$STACK_CACHE/bin/metallb/$METALLB_VERSION lic
  lic=$(module_file metallb "$METALLB_VERSION" go.universe.tf/metallb LICENSE)
  pack metallb-controller "quay.io/metallb/controller:$METALLB_VERSION" "$b/controller" --entrypoint '["/controller"]' -- \
    base_files "copy $b/controller /controller" "copy $lic /LICENSE"
}

image_metallb_speaker() {
  local b=$STACK_CACHE/bin/metallb/$METALLB_VERSION lic
  lic=$(module_file metallb "$METALLB_VERSION" go.universe.tf/metallb LICENSE)
  pack metallb-speaker "quay.io/metallb/speaker:$METALLB_VERSION" "$b/speaker" --entrypoint '["/speaker"]' -- \
    base_files "copy $b/speaker /speaker" "copy $lic /LICENSE"
}

# Upstream's is alpine with the binary at /usr/bin and CMD ["local-path-provisioner"] (the manifest gives the
# command by name); busybox stands in for alpine's shell and tools.
image_local_path_provisioner() {
  local b=$STACK_CACHE/bin/local-path-provisioner/$LOCAL_PATH_VERSION bb
  bb=$(busybox_bin)
  pack local-path-provisioner "docker.io/rancher/local-path-provisioner:$LOCAL_PATH_VERSION" "$b/local-path-provisioner" \
    --cmd '["local-path-provisioner"]' -- \
    base_files "copy $b/local-path-provisioner /usr/bin/local-path-provisioner" "copy $bb /bin/busybox" busybox_all_links
}

# The helper pod of local-path-storage.yaml (and the lessons' images.busybox default) runs "busybox", which
# containerd reads as docker.io/library/busybox:latest: Debian's busybox (the static build, busybox-static),
# every applet linked in /bin as in upstream's image, CMD ["sh"].
image_busybox() {
  local bb
  bb=$(busybox_bin)
  pack busybox "docker.io/library/busybox:latest" "$bb" --cmd '["sh"]' -- \
    base_files "copy $bb /bin/busybox" busybox_all_links
}

# Every applet busybox lists, as a link in /bin (upstream's layout).
busybox_all_links() {
  local a
  for a in $("$ROOT/bin/busybox" --list); do
    [[ $a == busybox || -e $ROOT/bin/$a ]] || ln -s busybox "$ROOT/bin/$a"
  done
}

# busybox_bin: /bin/busybox of Debian's busybox-static (downloaded once to $STACK_CACHE/debs, unpacked in
# debs/.unpacked); prints its path. The image stamps hash the binary, so a new Debian build of it remakes the images.
busybox_bin() {
  local d=$STACK_CACHE/debs deb
  mkdir -p "$d"
  compgen -G "$d/busybox-static_*.deb" >/dev/null || (cd "$d" && apt-get download -q busybox-static >&2)
  deb=$(compgen -G "$d/busybox-static_*.deb" | sort -V | tail -1)
  local x
  x=$d/.unpacked/$(basename "$deb" .deb)
  [[ -x $x/bin/busybox ]] || { rm -rf "$x" && mkdir -p "$x" && dpkg-deb -x "$deb" "$x"; }
  echo "$x/bin/busybox"
}

# module_file COMPONENT VERSION MODULE FILE: the path of FILE in MODULE's zip as the build module pins it.
module_file() {
  local dir
  dir=$(cd "$here/modules/$1/$2" && go mod download -json "$3" | jq -r '.Dir // empty')
  [[ -n $dir && -f $dir/$4 ]] || die "$3 ($1 $2) has no $4"
  echo "$dir/$4"
}
