#!/usr/bin/env bash
# The one test command (README, `make test`, .ci/run). It installs what is missing, then starts a
# virtual display and a D-Bus session with an unlocked gnome-keyring, and runs every cargo test,
# the end-to-end ones included. Each test starts its own identity server on an ephemeral port.
# Everything started here is stopped by PID on exit, even on failure. Extra arguments go to
# `cargo test`, e.g. `scripts/test.sh --test e2e_onboarding`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_apt_packages "${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
check_toolchains
install_idp
install_tauri_driver

cd "$REPO_ROOT"
log "building (output in $CARGO_TARGET_DIR)"
cargo build --workspace --bins --quiet
export DCR_APP_BINARY="$CARGO_TARGET_DIR/debug/dcr-desktop"
export DCR_CLI_BINARY="$CARGO_TARGET_DIR/debug/dcr"

scratch="$(mktemp -d)"
export DCR_ARTIFACTS="${DCR_ARTIFACTS:-$REPO_ROOT/artifacts}"
mkdir -p "$DCR_ARTIFACTS"
xvfb_pid=""
cleanup() {
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null && wait "$xvfb_pid" 2>/dev/null
  rm -rf "$scratch"
}
trap cleanup EXIT

# A virtual display for the real WebKitGTK window. -displayfd picks a free display number.
exec 3>"$scratch/display"
Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp >"$scratch/xvfb.log" 2>&1 &
xvfb_pid=$!
for _ in $(seq 50); do [ -s "$scratch/display" ] && break; sleep 0.1; done
[ -s "$scratch/display" ] || die "Xvfb did not start: $(cat "$scratch/xvfb.log")"
export DISPLAY=":$(head -n1 "$scratch/display")"
exec 3>&-

# The keychain lives in throwaway XDG folders, so tests never touch the user's real keyring.
mkdir -m 700 "$scratch/runtime"
export XDG_RUNTIME_DIR="$scratch/runtime" XDG_DATA_HOME="$scratch/data" XDG_CONFIG_HOME="$scratch/config" \
  XDG_CACHE_HOME="$scratch/cache"
export DCR_TEST_KEYRING=1

log "running every test on $DISPLAY with a fresh unlocked gnome-keyring"
dbus-run-session -- bash -c '
  set -u
  printf "test-keyring-password" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null 2>&1 &
  keyring_pid=$!
  trap "kill $keyring_pid 2>/dev/null; wait $keyring_pid 2>/dev/null" EXIT
  # Wait until the Secret Service answers on the bus.
  for _ in $(seq 50); do
    dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" && break
    sleep 0.1
  done
  cargo test --workspace --no-fail-fast "$@" -- --test-threads="${DCR_TEST_THREADS:-2}"
' dcr-tests "$@"
