# Sourced by scripts/bench.sh: what the shell benchmark (tests/benches/shell, docs/benchmarks.md
# "The shell against a bare Tauri app" and "Password submit to Home") and the app soak's embedded
# part need before `cargo bench`: both release builds, the app and its baseline benches/bare-tauri
# (a workspace member that is not a default member, so `make test` never builds it), and
# tauri-driver for the signed-in runs.
# Both are built in one cargo invocation, so they share one feature resolution of tauri.
# DCR_BENCH_SKIP_DESKTOP=1 skips this (the bench then says it was skipped).

build_shell_bench() {
  [ "${DCR_BENCH_SKIP_DESKTOP:-0}" = 1 ] && return 0
  install_tauri_driver
  log "building the release app and benches/bare-tauri (fat LTO: minutes on two cores)"
  cargo build --release --quiet -p dcr-desktop -p bare-tauri
  export DCR_SHELL_APP="$CARGO_TARGET_DIR/release/dcr-desktop"
  export DCR_SHELL_BARE="$CARGO_TARGET_DIR/release/bare-tauri"
}
