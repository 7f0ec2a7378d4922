#!/usr/bin/env bash
# wait_for WHAT TIMEOUT COMMAND...: polls COMMAND (quietly) every WAIT_INTERVAL seconds (default 5) until
# it succeeds, or fails once TIMEOUT seconds have passed. WHAT is for the log ("the API server").
wait_for() {
  local what=$1 timeout=$2 start=$SECONDS
  shift 2
  log "waiting for $what (up to ${timeout}s)"
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS - start >= timeout)); then
      warn "$what was not ready after ${timeout}s"
      return 1
    fi
    sleep "${WAIT_INTERVAL:-5}"
  done
  log "$what is ready (after $((SECONDS - start))s)"
}
