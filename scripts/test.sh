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

export DCR_ARTIFACTS="${DCR_ARTIFACTS:-$REPO_ROOT/artifacts}"
mkdir -p "$DCR_ARTIFACTS"
start_scratch_desktop
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
