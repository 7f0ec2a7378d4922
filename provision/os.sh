#!/usr/bin/env bash
# Which package family is this distribution? Read from os-release, so derivatives are recognised too.

# os_release_field KEY FILE: the value of KEY in an os-release file, quotes removed.
os_release_field() {
  awk -F= -v k="$1" '$1 == k { v = $2; gsub(/["'\'']/, "", v); print v; exit }' "$2"
}

# os_family FILE: prints "debian" (apt: Debian, Ubuntu) or "rhel" (dnf: Rocky, Alma, RHEL) for an
# os-release FILE (/etc/os-release on a node); fails for anything else.
os_family() {
  local file=$1 id like
  id=$(os_release_field ID "$file") || return 1
  like=$(os_release_field ID_LIKE "$file") || return 1
  case " $id $like " in
    *" debian "* | *" ubuntu "*) echo debian ;;
    *" rhel "* | *" fedora "* | *" centos "*) echo rhel ;;
    *) return 1 ;;
  esac
}
