#!/usr/bin/env bash
# The one run command (README, `make run`): installs what is missing, starts the bundled identity
# server on the port config.json names, opens the app against it, and stops the server when the
# app exits.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_apt_packages "${RUN_PACKAGES[@]}"
check_toolchains
install_idp

cd "$REPO_ROOT"
config="${DCR_CONFIG:-$REPO_ROOT/config.json}"
port="$(node -e 'const u = new URL(require(process.argv[1]).issuer); process.stdout.write(u.port || "80")' "$config")"

log "building the app (output in $CARGO_TARGET_DIR)"
cargo build -p dcr-desktop --quiet

scratch="$(mktemp -d)"
idp_pid=""
cleanup() {
  [ -n "$idp_pid" ] && kill "$idp_pid" 2>/dev/null && wait "$idp_pid" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT

IDP_PORT="$port" node tests/idp/server.mjs >"$scratch/idp.out" &
idp_pid=$!
for _ in $(seq 150); do
  grep -q '^ready ' "$scratch/idp.out" && break
  kill -0 "$idp_pid" 2>/dev/null || die "the identity server exited (is port $port free?)"
  sleep 0.2
done
issuer="$(sed -n 's/^ready //p' "$scratch/idp.out")"
[ -n "$issuer" ] || die "the identity server did not become ready"
log "identity server ready at $issuer (user demouser / Password1)"

# Always explicit: the app has no config built in (a build for installation must never fall back to
# this loopback http development config).
"$CARGO_TARGET_DIR/debug/dcr-desktop" --config "$config"
