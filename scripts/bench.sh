#!/usr/bin/env bash
# The benchmark command (docs/benchmarks.md). Like scripts/test.sh it installs what is missing,
# starts a virtual display and a D-Bus session with a throwaway unlocked gnome-keyring, then runs
# `cargo bench -p dcr-tests` (release profile). Every bench measures its subject next to a
# baseline in the same run. Results go to stdout and to $DCR_BENCH_OUT (default
# $CARGO_TARGET_DIR/bench-results.md). Extra arguments go to `cargo bench`, e.g.
# `scripts/bench.sh --bench keychain`. DCR_BENCH_QUICK=1 runs a few iterations only (a smoke check).
# Everything started here is stopped by PID on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
source "$(dirname "${BASH_SOURCE[0]}")/bench-shell.sh"

# `time` provides /usr/bin/time, which reports the CLI's peak RSS.
install_apt_packages "${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}" time
check_toolchains
install_idp
# The peer of the engine comparison (pinned in its package-lock.json), and tauri-driver
# for the soak through the app's commands.
npm ci --prefix "$REPO_ROOT/benches/openid-client" --no-audit --no-fund --silent
install_tauri_driver

cd "$REPO_ROOT"
out="${DCR_BENCH_OUT:-$CARGO_TARGET_DIR/bench-results.md}"
# The SVG charts the benches draw for docs/benchmarks.md.
export DCR_BENCH_CHARTS="${DCR_BENCH_CHARTS:-$REPO_ROOT/docs/charts}"
mkdir -p "$(dirname "$out")"

log "building (output in $CARGO_TARGET_DIR)"
# The CLI in release for the memory bench; the app as the tests build it (debug), for its RSS.
cargo build --release --quiet -p dcr-cli
export DCR_BENCH_CLI="$CARGO_TARGET_DIR/release/dcr"
if [ "${DCR_BENCH_SKIP_DESKTOP:-0}" != 1 ]; then
  cargo build --quiet -p dcr-desktop
  export DCR_APP_BINARY="${DCR_APP_BINARY:-$CARGO_TARGET_DIR/debug/dcr-desktop}"
fi
# The shell bench's release app and bare Tauri baseline (scripts/bench-shell.sh).
build_shell_bench
cargo bench -p dcr-tests --no-run --quiet

start_scratch_desktop

# No arguments: every bench target, and nothing else (not the library's unit tests).
[ $# -eq 0 ] && set -- --bench '*'

{
  echo "# Benchmark run $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "- nproc: $(nproc); load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- $(rustc --version); node $(node --version)"
  echo
  echo '```'
  lscpu | head -n 15
  echo '```'
} | tee "$out"

log "running the benchmarks on $DISPLAY with a fresh unlocked gnome-keyring"
# Only the benches' stdout (fd 3) goes to the results; services that D-Bus starts for the windows
# (accessibility, portals) inherit stdout too, so theirs goes to stderr.
dbus-run-session -- "$REPO_ROOT/scripts/with-keyring.sh" bash -c 'cargo bench -p dcr-tests "$@" >&3' dcr-bench "$@" 3>&1 1>&2 | tee -a "$out"
log "results in $out"
