#!/usr/bin/env bash
# The one run command (README, `make run`): installs what is missing, starts the bundled identity
# server on the port config.json names, opens the app against it, and stops the server when the
# app exits.
#
# DCR_CONFIG picks another config file (default config.json); IDP_PROFILE (`curity`, the default,
# or `device-bound`) and IDP_DPOP_NONCE=1 are passed on to the identity server, e.g.
#   DCR_CONFIG=config.device-bound.json IDP_PROFILE=device-bound make run
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_apt_packages "${RUN_PACKAGES[@]}"
check_toolchains
install_idp

# Absolute before the cd, so a relative DCR_CONFIG means the same file to node and to the app.
config="$(realpath -m -- "${DCR_CONFIG:-$REPO_ROOT/config.json}")"
cd "$REPO_ROOT"
port="$(node -e 'const u = new URL(require(process.argv[1]).issuer); process.stdout.write(u.port || "80")' "$config")"
profile="${IDP_PROFILE:-curity}"
method="$(node -e 'process.stdout.write(require(process.argv[1]).tokenEndpointAuthMethod || "client_secret_basic")' "$config")"
if [ "$profile" = device-bound ] && [ "$method" != private_key_jwt ]; then
  die "IDP_PROFILE=device-bound requires a config with \"tokenEndpointAuthMethod\": \"private_key_jwt\" (e.g. DCR_CONFIG=config.device-bound.json)"
fi

log "building the app (output in $CARGO_TARGET_DIR)"
cargo build -p dcr-desktop --quiet

scratch="$(mktemp -d)"
idp_pid=""
cleanup() {
  [ -n "$idp_pid" ] && kill "$idp_pid" 2>/dev/null && wait "$idp_pid" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT

IDP_PORT="$port" IDP_PROFILE="$profile" node tests/idp/server.mjs >"$scratch/idp.out" &
idp_pid=$!
for _ in $(seq 150); do
  grep -q '^ready ' "$scratch/idp.out" && break
  kill -0 "$idp_pid" 2>/dev/null || die "the identity server exited (is port $port free?)"
  sleep 0.2
done
issuer="$(sed -n 's/^ready //p' "$scratch/idp.out")"
[ -n "$issuer" ] || die "the identity server did not become ready"
log "identity server ready at $issuer, profile $profile (user demouser / Password1)"

# Always explicit: the app has no config built in (a build for installation must never fall back to
# this loopback http development config).
"$CARGO_TARGET_DIR/debug/dcr-desktop" --config "$config"
