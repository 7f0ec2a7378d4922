#!/usr/bin/env bash
# pkg_install PACKAGE...: installs packages with the distribution's own tool (needs os_family and retry).
pkg_install() {
  local family
  family=$(os_family /etc/os-release) || die "unsupported distribution: k8slab supports apt (Ubuntu, Debian) and dnf (Rocky, Alma 9)"
  if [[ $family == debian ]]; then
    retry 3 10 env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
  else
    retry 3 10 dnf install -y -q "$@"
  fi
}
