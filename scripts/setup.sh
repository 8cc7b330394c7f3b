#!/usr/bin/env bash
# Installs what Vigil needs from Debian: tshark (tests cross-check dissectors against it),
# tcpdump (live capture), p0f (its signature database and the fingerprint cross-check), chromium
# (the dashboard's end-to-end tests drive it through playwright-core).
# Idempotent: installs only what is missing. Needs root (or sudo) for apt.
set -euo pipefail
need=()
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v p0f >/dev/null 2>&1 || need+=(p0f)
command -v capinfos >/dev/null 2>&1 || need+=(wireshark-common)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ "${#need[@]}" -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${need[*]} from Debian" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
