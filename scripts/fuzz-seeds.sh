#!/usr/bin/env bash
# Captures the fuzz seeds (fuzz/corpus/<target>/) from real lifecycles against the bundled
# identity server: discovery, token, registration, RFC 7592 read and key-set responses, ID tokens
# and callback URLs, in the input layout of `dcr_core::fuzzing`. Run it after a change to what the
# server answers or to an input layout, and commit the result (docs/fuzzing.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
check_toolchains
install_idp
cd "$REPO_ROOT"
cargo test --workspace --quiet --test engine -- fuzz_seeds::capture_fuzz_seeds --exact --ignored
log "seeds written under fuzz/corpus/"
