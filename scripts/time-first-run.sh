#!/usr/bin/env bash
# Times a newcomer's first and second `make test` (docs/testing.md, "How long `make test` takes"): a fresh clone
# of HEAD and a fresh HOME, so no Rust build output, no cargo registry, no cargo-installed tools (tauri-driver,
# cargo-fuzz) and no npm cache; then the same again, warm. What stays is what the README lists as prerequisites
# or this machine kind brings: rustup's toolchains (stable and nightly, through RUSTUP_HOME), Node.js, and the
# apt packages already installed. Usage: scripts/time-first-run.sh [SCRATCH_DIR]   (default: a new temp folder)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="${1:-$(mktemp -d /tmp/dcr-first-run.XXXXXX)}"
rustup_home="${RUSTUP_HOME:-$HOME/.rustup}"
mkdir -p "$root/home/.cargo/bin"
# rustup's proxies, so `cargo` and `rustc` resolve to the installed toolchains; nothing else from ~/.cargo/bin.
for tool in cargo rustc rustup rustdoc rustfmt cargo-clippy cargo-fmt clippy-driver; do
  ln -sf "$HOME/.cargo/bin/$tool" "$root/home/.cargo/bin/$tool"
done
git clone -q "$repo" "$root/clone"
cd "$root/clone"
export HOME="$root/home" RUSTUP_HOME="$rustup_home" CARGO_HOME="$root/home/.cargo"
export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
unset CARGO_TARGET_DIR CARGO_BUILD_BUILD_DIR DCR_FUZZ_TARGET_DIR
for run in cold warm; do
  echo "$run run of $(git rev-parse --short HEAD) started $(date -u +%FT%TZ); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"
  start=$(date +%s)
  set +e
  make test >"$root/$run.log" 2>&1
  rc=$?
  set -e
  end=$(date +%s)
  grep -E '^test result' "$root/$run.log" | awk '{p+=$4; f+=$6; i+=$8} END {print "tests: " p " passed, " f " failed, " i " ignored"}'
  echo "$run make test: exit $rc after $(( (end-start)/60 )) min $(( (end-start)%60 )) s; ended $(date -u +%FT%TZ); load $(cut -d' ' -f1-3 /proc/loadavg)"
  [ "$rc" -eq 0 ] || exit "$rc"
done
