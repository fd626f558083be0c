#!/usr/bin/env bash
# Fuzzes the engine's response checks (docs/fuzzing.md) with cargo-fuzz and libFuzzer
# (nightly toolchain, AddressSanitizer). Every target in fuzz/fuzz_targets runs in turn for a fixed
# budget, starting from the committed seeds in fuzz/corpus/<target>, with:
#   -malloc_limit_mb=64   any single allocation over 64 MB is a finding (the memory goal),
#   -rss_limit_mb         the whole process over DCR_FUZZ_RSS_MB (default 2048; AddressSanitizer's
#                         quarantine and shadow memory alone take a few hundred MB) is a finding,
#   -timeout              one input taking over DCR_FUZZ_TIMEOUT seconds (default 10) is a hang.
# The executions of every target are summed and the run's statistics (per target: executions,
# corpus size before and after, time, findings) written to DCR_FUZZ_OUT. A full run's default is
# docs/fuzz-results/<UTC date>.md in the repository (<date>-<HHMM>.md when that file exists), so the
# committed numbers are this script's own output; a smoke run's is
# $DCR_FUZZ_TARGET_DIR/fuzz-results-smoke.md, never committed. A finding is saved under
# fuzz/artifacts/<target>/ and makes the script exit non-zero.
#
#   scripts/fuzz.sh                  every target for DCR_FUZZ_SECONDS (default 120) each
#   scripts/fuzz.sh token config     only these targets
#   DCR_FUZZ_RUNS=1000000 scripts/fuzz.sh   a number of executions per target instead of a time
#   DCR_FUZZ_JOBS=2 scripts/fuzz.sh         two targets at a time (one core each)
#   scripts/fuzz.sh --smoke          the `make test` check: DCR_FUZZ_RUNS (default 3000) runs per
#                                    target, new inputs kept in a temporary folder; without the
#                                    nightly toolchain it prints why and exits 0.
#
# Build output goes to DCR_FUZZ_TARGET_DIR (default ~/.cache/dcr-desktop/fuzz-target), a fixed
# folder apart from the debug build's: a sanitizer build of the same crates, kept warm for the next
# run. New corpus entries of a full run go to $DCR_FUZZ_TARGET_DIR/corpus-run/<target> (they are
# not committed; minimize and copy the interesting ones into fuzz/corpus by hand).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

command_line="$(printf '%q ' "$0" "$@")"
smoke=0
if [ "${1:-}" = --smoke ]; then
  smoke=1
  shift
fi

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  reason="no nightly Rust toolchain (cargo-fuzz needs nightly for -Zsanitizer; install it with \`rustup toolchain install nightly\`)"
  [ "$smoke" = 1 ] && { log "fuzz smoke run skipped: $reason"; exit 0; }
  die "$reason"
fi
# libfuzzer-sys compiles libFuzzer (C++), and ring its C and assembly, with the system compiler.
install_apt_packages build-essential
if ! command -v cargo-fuzz >/dev/null; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked --quiet
fi

FUZZ_DIR="$REPO_ROOT/fuzz"
export DCR_FUZZ_TARGET_DIR="${DCR_FUZZ_TARGET_DIR:-$HOME/.cache/dcr-desktop/fuzz-target}"
# A smoke run keeps its table apart, outside the repository: only full runs are results.
if [ "$smoke" = 1 ]; then
  out="${DCR_FUZZ_OUT:-$DCR_FUZZ_TARGET_DIR/fuzz-results-smoke.md}"
else
  out="${DCR_FUZZ_OUT:-$REPO_ROOT/docs/fuzz-results/$(date -u +%Y-%m-%d).md}"
  [ -n "${DCR_FUZZ_OUT:-}" ] || [ ! -e "$out" ] || out="${out%.md}-$(date -u +%H%M).md"
fi
rss_mb="${DCR_FUZZ_RSS_MB:-2048}"
timeout_s="${DCR_FUZZ_TIMEOUT:-10}"
if [ "$smoke" = 1 ]; then
  runs="${DCR_FUZZ_RUNS:-3000}"
  seconds=60 # a guard only: the runs end a smoke run long before
else
  runs="${DCR_FUZZ_RUNS:-}"
  seconds="${DCR_FUZZ_SECONDS:-120}"
fi

cd "$FUZZ_DIR"
if [ $# -eq 0 ]; then
  set -- $(cargo +nightly fuzz list)
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

log "building the fuzz targets (nightly, AddressSanitizer; output in $DCR_FUZZ_TARGET_DIR)"
build_start=$SECONDS
# -O: release, with debug assertions (-a) so overflow checks and debug_assert! are findings too.
if ! nice -n 10 cargo +nightly fuzz build -O -a --target-dir "$DCR_FUZZ_TARGET_DIR" >"$scratch/build.log" 2>&1; then
  cat "$scratch/build.log" >&2
  die "the fuzz build failed"
fi
build_secs=$((SECONDS - build_start))
bin_dir="$DCR_FUZZ_TARGET_DIR/$(rustc +nightly -vV | sed -n 's/^host: //p')/release"
mkdir -p "$(dirname "$out")"

{
  echo "# Fuzz run $(date -u '+%Y-%m-%d %H:%M UTC')$([ "$smoke" = 1 ] && echo ' (smoke)')"
  echo
  echo "Written by \`scripts/fuzz.sh\` itself; nothing here is edited by hand."
  echo
  echo "- command: \`${DCR_FUZZ_SECONDS:+DCR_FUZZ_SECONDS=$DCR_FUZZ_SECONDS }${DCR_FUZZ_RUNS:+DCR_FUZZ_RUNS=$DCR_FUZZ_RUNS }${DCR_FUZZ_JOBS:+DCR_FUZZ_JOBS=$DCR_FUZZ_JOBS }${command_line% }\`"
  echo "- source: commit $(git -C "$REPO_ROOT" rev-parse --short HEAD)$(git -C "$REPO_ROOT" diff --quiet HEAD -- crates fuzz || echo ' with uncommitted changes under crates/ or fuzz/')"
  echo "- budget per target: ${runs:+$runs runs, }${seconds} s at most; -malloc_limit_mb=64 -rss_limit_mb=$rss_mb -timeout=$timeout_s"
  echo "- $(rustc +nightly --version); $(cargo +nightly fuzz --version); build ${build_secs} s"
  echo "- $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "- corpus: the committed seeds (read only) plus the run corpus $([ "$smoke" = 1 ] && echo '(a temporary folder)' || echo '`$DCR_FUZZ_TARGET_DIR/corpus-run/<target>`, which carries over between runs'); \"findings\" counts the inputs libFuzzer saved under fuzz/artifacts/<target>/ in this run (crash, leak, timeout, out-of-memory)"
  echo
  echo "| target | seeds | executions | time (s) | exec/s | peak RSS (MB) | max input (bytes) | corpus before | corpus after | findings | result |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
} >"$out"

# The inputs libFuzzer has saved for a target (its artifact prefixes: crash-, leak-, timeout-, oom-).
count_findings() {
  find "$FUZZ_DIR/artifacts/$1" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l
}

# One target: libFuzzer's run, then its row of the table in $scratch/$target.row.
fuzz_target() {
  local target="$1" seeds="$FUZZ_DIR/corpus/$1" work status=0 start secs execs rss result before findings max_len
  if [ "$smoke" = 1 ]; then work="$scratch/$target"; else work="$DCR_FUZZ_TARGET_DIR/corpus-run/$target"; fi
  mkdir -p "$seeds" "$work" "$FUZZ_DIR/artifacts/$target"
  before="$(find "$work" -type f | wc -l)"
  findings="$(count_findings "$target")"
  local args=(-malloc_limit_mb=64 "-rss_limit_mb=$rss_mb" "-timeout=$timeout_s" "-max_total_time=$seconds"
    -print_final_stats=1 "-artifact_prefix=$FUZZ_DIR/artifacts/$target/")
  [ -n "$runs" ] && args+=("-runs=$runs")
  [ -f "$FUZZ_DIR/dict/$target.dict" ] && args+=("-dict=$FUZZ_DIR/dict/$target.dict")
  log "fuzzing $target"
  start=$SECONDS
  # New inputs go to the first folder; the committed seeds are only read.
  nice -n 10 "$bin_dir/$target" "${args[@]}" "$work" "$seeds" >"$scratch/$target.log" 2>&1 || status=$?
  secs=$((SECONDS - start))
  findings=$(($(count_findings "$target") - findings))
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$target.log" | tail -n1)"
  rss="$(sed -n 's/^stat::peak_rss_mb: *//p' "$scratch/$target.log" | tail -n1)"
  # -max_len is not set: libFuzzer picks it from the corpus and says so at the start.
  max_len="$(sed -n 's/.*will not generate inputs larger than \([0-9]*\) bytes.*/\1/p' "$scratch/$target.log" | head -n1)"
  if [ "$status" -eq 0 ]; then
    result=ok
  else
    # libFuzzer names the finding: deadly signal, timeout, out-of-memory (malloc(...)), ...
    result="$(grep -o -m1 'ERROR: libFuzzer: [a-z-]*\|ERROR: AddressSanitizer: [a-z-]*' "$scratch/$target.log" || echo "exit $status")"
    cp "$scratch/$target.log" "$FUZZ_DIR/artifacts/$target/last-run.log"
    tail -n 40 "$scratch/$target.log" >&2
  fi
  echo "$target ${execs:-0} $secs $status | $target | $(find "$seeds" -type f | wc -l) | ${execs:-0} | $secs | $((${execs:-0} / (secs > 0 ? secs : 1))) | ${rss:-?} | ${max_len:-?} | $before | $(find "$work" -type f | wc -l) | $findings | $result |" >"$scratch/$target.row"
}

# DCR_FUZZ_JOBS targets at a time (default 1): each libFuzzer process uses one core.
jobs_max="${DCR_FUZZ_JOBS:-1}"
run_start=$SECONDS
for target in "$@"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  fuzz_target "$target" &
done
wait
wall=$((SECONDS - run_start))

total=0
total_secs=0
failed=()
for target in "$@"; do
  read -r _ execs secs status row <"$scratch/$target.row"
  echo "$row" >>"$out"
  total=$((total + execs))
  total_secs=$((total_secs + secs))
  [ "$status" -eq 0 ] || failed+=("$target")
done
echo "| **total** | | **$total** | $total_secs (wall: $wall, $jobs_max at a time) | | | | | | | ${#failed[@]} target(s) with a finding |" >>"$out"
echo >>"$out"
echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)." >>"$out"

cat "$out"
[ "$smoke" = 1 ] || log "results in $out"
[ ${#failed[@]} -eq 0 ] || die "findings in: ${failed[*]} (inputs and logs under fuzz/artifacts/)"
