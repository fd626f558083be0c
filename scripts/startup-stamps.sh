#!/usr/bin/env bash
# The app's startup stamps (docs/benchmarks.md, "Reading the startup stamps"): launches the app
# RUNS times on a scratch display with a fresh D-Bus session and unlocked gnome-keyring, each
# time with its own data folder and RUST_LOG=info,dcr_desktop::startup=debug, waits until the
# page has reported its first screen painted, stops the app, and prints every stage's median
# and range of milliseconds since process start.
#
#   scripts/startup-stamps.sh [BINARY] [RUNS]
#
# BINARY: default $CARGO_TARGET_DIR/release/dcr-desktop (scripts/bench-shell.sh builds it);
# RUNS: default 10; the config: $DCR_CONFIG, else the development config.json.
# Everything started here is stopped by PID on exit.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

binary="${1:-$CARGO_TARGET_DIR/release/dcr-desktop}"
runs="${2:-10}"
config="${DCR_CONFIG:-$REPO_ROOT/config.json}"
[ -x "$binary" ] || die "$binary is missing: cargo build --release -p dcr-desktop"

if [ "${STAMPS_ON_DISPLAY:-0}" != 1 ]; then
  start_scratch_desktop
  STAMPS_ON_DISPLAY=1 dbus-run-session -- "$REPO_ROOT/scripts/with-keyring.sh" "$0" "$binary" "$runs"
  exit
fi

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
for run in $(seq "$runs"); do
  data="$logs/data-$run"
  log_file="$data/io.curity.dcrclient/logs/dcr-client.log"
  XDG_DATA_HOME="$data" RUST_LOG="info,dcr_desktop::startup=debug" \
    "$binary" --config "$config" >/dev/null 2>&1 &
  app=$!
  # The page reports its stamps once the first screen is painted; give up after 30 s.
  for _ in $(seq 300); do
    grep -q 'stage="first screen painted"' "$log_file" 2>/dev/null && break
    sleep 0.1
  done
  kill "$app" 2>/dev/null || true
  wait "$app" 2>/dev/null || true
  grep -q 'stage="first screen painted"' "$log_file" 2>/dev/null \
    || die "run $run: no 'first screen painted' stamp in $log_file"
  grep 'startup stage' "$log_file" >>"$logs/all"
done

# One line per stage, in the order of its median: median, min, max over the runs.
sed -E -n 's/.*stage="([^"]+)" ms=([0-9.-]+).*/\1\t\2/p' "$logs/all" |
  sort -t$'\t' -k1,1 -k2,2g |
  awk -F'\t' '
    { ms[$1] = ms[$1] " " $2; n[$1]++ }
    END {
      for (stage in ms) {
        split(substr(ms[stage], 2), v, " ")
        k = n[stage]
        median = (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
        printf "%.1f\t%s\t%.1f\t%.1f\t%d\n", median, stage, v[1], v[k], k
      }
    }' |
  sort -t$'\t' -k1,1g |
  awk -F'\t' -v runs="$runs" '
    BEGIN { print "| stage | median ms | min | max | runs |"; print "|---|---:|---:|---:|---:|" }
    { printf "| %s | %.1f | %.1f | %.1f | %d of %d |\n", $2, $1, $3, $4, $5, runs }'
