#!/usr/bin/env bash
# retry ATTEMPTS DELAY COMMAND...: runs COMMAND until it succeeds, at most ATTEMPTS times, DELAY seconds
# apart. Downloads and API calls fail now and then on a fresh VM; one bad second should not fail a lab.
retry() {
  local attempts=$1 delay=$2 n=1
  shift 2
  until "$@"; do
    if ((n >= attempts)); then
      warn "gave up after $n attempts: $*"
      return 1
    fi
    log "attempt $n of $attempts failed: $*; again in ${delay}s"
    n=$((n + 1))
    sleep "$delay"
  done
}
