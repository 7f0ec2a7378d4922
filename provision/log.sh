#!/usr/bin/env bash
# Logging for the provisioning scripts. Each line names the script (SCRIPT_NAME, set by the script that
# includes this piece) and the time, so the interleaved output of `vagrant up` stays readable.
log() { printf '[k8slab %s %s] %s\n' "${SCRIPT_NAME:-provision}" "$(date +%H:%M:%S)" "$*"; }
warn() { log "WARNING: $*" >&2; }
die() {
  log "ERROR: $*" >&2
  exit 1
}
