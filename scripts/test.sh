#!/usr/bin/env bash
# The one test command (README, `make test`, .ci/run). It installs what is missing, then starts a
# virtual display and a D-Bus session with an unlocked gnome-keyring, and runs every cargo test,
# the end-to-end ones included. Each test starts its own identity server on an ephemeral port.
# Everything started here is stopped by PID on exit, even on failure. Extra arguments go to
# `cargo test`, e.g. `scripts/test.sh --test desktop` (one test binary; docs/testing.md lists
# them) or `scripts/test.sh --test desktop onboarding::` (its tests whose names contain that).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_apt_packages "${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
check_toolchains
install_idp
install_tauri_driver
install_tauri_cli

cd "$REPO_ROOT"
log "building (output in $CARGO_TARGET_DIR)"
# benches/bare-tauri is the shell benchmark's baseline (scripts/bench.sh), not part of the tests.
cargo build --workspace --exclude bare-tauri --bins --quiet
export DCR_APP_BINARY="$CARGO_TARGET_DIR/debug/dcr-desktop"
export DCR_CLI_BINARY="$CARGO_TARGET_DIR/debug/dcr"

# The .deb and .rpm, for the `package` test binary (tests/tests/package/). Skipped only when the
# arguments pick other tests (`--test NAME` without `--test package`, or `--lib`). `tauri build`
# is a release cargo build (incremental: seconds when nothing changed, one LTO link when a source
# did) plus packaging.
if wants_packages "$@"; then
  log "building the .deb and .rpm (release, output in $CARGO_TARGET_DIR/release/bundle)"
  build_packages
  # The test installs the .deb with dpkg: as root (CI), or with `sudo -n` after one prompt here.
  if [ "$(id -u)" -ne 0 ]; then
    sudo -v || die "the package test installs the .deb with dpkg: it needs root or sudo"
  fi
fi

# Fuzz smoke run (docs/fuzzing.md): every fuzz target over its seeds and a few thousand
# inputs. It skips itself, saying why, without the nightly toolchain; a filtered run skips it too.
if [ $# -eq 0 ] || [ "${DCR_FUZZ_SMOKE:-0}" = 1 ]; then
  "$REPO_ROOT/scripts/fuzz.sh" --smoke
else
  log "fuzz smoke run skipped: test.sh was given a filter ($*); DCR_FUZZ_SMOKE=1 runs it anyway"
fi

export DCR_ARTIFACTS="${DCR_ARTIFACTS:-$REPO_ROOT/artifacts}"
mkdir -p "$DCR_ARTIFACTS"
start_scratch_desktop
export DCR_TEST_KEYRING=1

log "running every test on $DISPLAY with a fresh unlocked gnome-keyring"
dbus-run-session -- "$REPO_ROOT/scripts/with-keyring.sh" \
  cargo test --workspace --exclude bare-tauri --no-fail-fast "$@" -- --test-threads="${DCR_TEST_THREADS:-2}"
