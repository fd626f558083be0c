#!/usr/bin/env bash
# The benchmark command (docs/benchmarks.md). Like scripts/test.sh it installs what is missing,
# starts a virtual display and a D-Bus session with a throwaway unlocked gnome-keyring, then runs
# `cargo bench -p dcr-tests` (release profile). Every bench measures its subject next to a
# baseline in the same run.
#
# The run's whole output goes into one folder, docs/bench-results/<UTC date>/ (<date>-<HHMM>/ when
# that folder exists; DCR_BENCH_DIR overrides it): the tables as results.md, written from the
# benches' own stdout, and the SVG charts beside it. results.md ends with the run's one summary
# table: every ratio goal with its baseline from the same run, assembled by
# scripts/bench-summary.mjs from the rows the benches write to summary.jsonl in that folder. Nothing in that folder is edited by hand;
# docs/benchmarks.md links to the latest full run's folder.
#
# Extra arguments go to `cargo bench`, e.g. `scripts/bench.sh --bench keychain`.
# DCR_BENCH_QUICK=1 runs a few iterations only (a smoke check; results.md says so).
# DCR_SOAK_RUNS=N sets the number of lifecycles of the soaks (soak, app_soak).
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
command_line="$(printf '%q ' "$0" "$@")"
run_dir="${DCR_BENCH_DIR:-$REPO_ROOT/docs/bench-results/$(date -u +%Y-%m-%d)}"
if [ -z "${DCR_BENCH_DIR:-}" ] && [ -e "$run_dir" ]; then
  run_dir="$run_dir-$(date -u +%H%M)"
fi
out="$run_dir/results.md"
# The benches write their SVG charts here, beside results.md, which links them by file name.
export DCR_BENCH_CHARTS="$run_dir"

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

# The output names no local folder: the build folder as $CARGO_TARGET_DIR, the clone's own
# paths relative to it. Line by line, so the results show while the benches run.
portable() {
  sed -u -e "s|$CARGO_TARGET_DIR|\$CARGO_TARGET_DIR|g" -e "s|$REPO_ROOT/||g"
}

mkdir -p "$run_dir"
# The summary rows of this run only (a DCR_BENCH_DIR reused from an earlier run keeps none).
rm -f "$run_dir/summary.jsonl"
started=$(date +%s)
{
  echo "# Benchmark run $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "Written by \`scripts/bench.sh\` itself: the benches' own output, nothing edited by hand; the charts are the SVG files beside this one."
  echo
  echo "- command: \`${DCR_BENCH_QUICK:+DCR_BENCH_QUICK=$DCR_BENCH_QUICK }${DCR_SOAK_RUNS:+DCR_SOAK_RUNS=$DCR_SOAK_RUNS }${DCR_BENCH_SKIP_DESKTOP:+DCR_BENCH_SKIP_DESKTOP=$DCR_BENCH_SKIP_DESKTOP }${command_line% }\`$([ "${DCR_BENCH_QUICK:-0}" = 1 ] && echo ' (quick: a few iterations only, not results)')"
  echo "- source: commit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates src-tauri ui tests benches || echo ', with uncommitted changes')"
  echo "- nproc: $(nproc); load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- $(rustc --version); node $(node --version)"
  echo
  echo '```'
  lscpu | head -n 15
  echo '```'
} | portable | tee "$out"

log "running the benchmarks on $DISPLAY with a fresh unlocked gnome-keyring"
# Only the benches' stdout (fd 3) goes to the results; services that D-Bus starts for the windows
# (accessibility, portals) inherit stdout too, so theirs goes to stderr.
status=0
dbus-run-session -- "$REPO_ROOT/scripts/with-keyring.sh" bash -c 'cargo bench -p dcr-tests "$@" >&3' dcr-bench "$@" 3>&1 1>&2 | portable | tee -a "$out" || status=$?
# The summary table and chart, from what the benches measured (also after a failed bench: the
# table then says which goals this run did not measure).
{
  echo
  node "$REPO_ROOT/scripts/bench-summary.mjs" "$run_dir"
  elapsed=$(( $(date +%s) - started ))
  echo "The benches took $((elapsed / 60)) min $((elapsed % 60)) s (after the builds); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} | portable | tee -a "$out"
log "results in $run_dir/ (results.md and the charts)"
exit "$status"
