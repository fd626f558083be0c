# Shared by run.sh and test.sh: where build output lives, and how to install what is missing.
# Sourced, not executed.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Build output lives outside the clone, in a fixed place, so a second run on the same machine is
# incremental (a Tauri build from scratch takes minutes on two cores).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/dcr-desktop/target}"
export PATH="$HOME/.cargo/bin:$PATH"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The Debian/Ubuntu packages each mode needs. Tauri's default features need only WebKitGTK 4.1.
RUN_PACKAGES=(build-essential pkg-config libwebkit2gtk-4.1-dev)
# The TPM-held device key (crates/dcr-core/src/device/tpm.rs) links tpm2-tss's ESAPI; libtss2-dev
# brings its headers, pkg-config files and the TCTI libraries (device, swtpm) it loads at run time.
RUN_PACKAGES+=(libtss2-dev)
TEST_PACKAGES=(xvfb xauth x11-utils dbus-daemon dbus-bin webkit2gtk-driver gnome-keyring libsecret-tools)
# The package test (the `package` test binary, tests/tests/package/): xdg-utils is the .deb's
# dependency and answers `xdg-mime query default`; desktop-file-utils validates the desktop entry
# and, through its dpkg trigger, builds the MIME cache an install registers the scheme handler in;
# rpm and cpio read the .rpm on this Debian machine.
TEST_PACKAGES+=(xdg-utils desktop-file-utils rpm cpio)
# The TPM tests (tests/tests/engine/tpm.rs) start a software TPM per test (dcr_tests::swtpm).
TEST_PACKAGES+=(swtpm)

install_apt_packages() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "missing packages ${missing[*]}; install them as root"
    sudo=(sudo)
  fi
  log "installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

check_toolchains() {
  command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs)"
  command -v node >/dev/null || die "node is missing: install Node.js 20 or newer"
  local major
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || die "Node.js $major is too old: the identity server needs Node.js 20 or newer"
}

# npm ci only when the lockfile changed since the last install.
install_idp() {
  local idp="$REPO_ROOT/tests/idp"
  if [ ! -f "$idp/node_modules/.package-lock.json" ] || [ "$idp/package-lock.json" -nt "$idp/node_modules/.package-lock.json" ]; then
    log "installing the identity server's npm packages"
    (cd "$idp" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

# The Tauri CLI makes the .deb and .rpm. It comes prebuilt from its npm package, pinned in the root
# package-lock.json to the app's Tauri version: `cargo install tauri-cli` compiled it for up to 16
# minutes on two cores. `npm ci` only when the lockfile changed since the last install.
TAURI_CLI="$REPO_ROOT/node_modules/.bin/tauri"
install_tauri_cli() {
  if [ -x "$TAURI_CLI" ] && [ ! "$REPO_ROOT/package-lock.json" -nt "$REPO_ROOT/node_modules/.package-lock.json" ]; then
    return 0
  fi
  log "installing the Tauri CLI (npm, prebuilt)"
  (cd "$REPO_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
}

# Whether `scripts/test.sh "$@"` runs the package test: every run does, except one narrowed to
# other tests (`--test NAME` without `--test package`, or `--lib`).
wants_packages() {
  local previous="" arg narrowed=0
  for arg in "$@"; do
    case "$arg" in
      --test=package) return 0 ;;
      --test=* | --lib) narrowed=1 ;;
    esac
    if [ "$previous" = --test ]; then
      [ "$arg" = package ] && return 0
      narrowed=1
    fi
    previous="$arg"
  done
  [ "$narrowed" -eq 0 ]
}

# Builds the .deb and .rpm with `tauri build` and exports their paths as DCR_PACKAGE_DEB and
# DCR_PACKAGE_RPM. The version comes from the workspace Cargo.toml (tauri.conf.json has none).
build_packages() {
  (cd "$REPO_ROOT/src-tauri" && "$TAURI_CLI" build --ci --bundles deb,rpm) ||
    die "tauri build failed"
  local version bundle
  version="$(cd "$REPO_ROOT" && cargo pkgid -p dcr-desktop)"
  version="${version##*[#@]}"
  bundle="$CARGO_TARGET_DIR/release/bundle"
  DCR_PACKAGE_DEB="$(only_file "$bundle/deb/"*"_${version}_$(dpkg --print-architecture).deb")"
  DCR_PACKAGE_RPM="$(only_file "$bundle/rpm/"*"-${version}-1.$(uname -m).rpm")"
  export DCR_PACKAGE_DEB DCR_PACKAGE_RPM
  log "packages: $DCR_PACKAGE_DEB, $DCR_PACKAGE_RPM"
}

# The one existing file a glob matched, or die.
only_file() {
  [ "$#" -eq 1 ] && [ -f "$1" ] || die "expected one package file, found: $*"
  printf '%s' "$1"
}

install_tauri_driver() {
  command -v tauri-driver >/dev/null && return 0
  log "installing tauri-driver"
  cargo install tauri-driver --locked --version '^2' --quiet
}

# A throwaway world for tests and benchmarks: a scratch folder, a virtual display (Xvfb) for the
# real WebKitGTK window, and XDG folders inside the scratch folder, so the keychain and the app's
# data never touch the user's own. Everything is removed, and Xvfb stopped by PID, on exit.
# Sets SCRATCH, DISPLAY and the XDG_* variables.
start_scratch_desktop() {
  SCRATCH="$(mktemp -d)"
  XVFB_PID=""
  trap 'stop_scratch_desktop' EXIT
  # -displayfd picks a free display number and writes it when the server is ready.
  exec 3>"$SCRATCH/display"
  Xvfb -displayfd 3 -screen 0 1280x900x24 -nolisten tcp >"$SCRATCH/xvfb.log" 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 50); do [ -s "$SCRATCH/display" ] && break; sleep 0.1; done
  [ -s "$SCRATCH/display" ] || die "Xvfb did not start: $(cat "$SCRATCH/xvfb.log")"
  export DISPLAY=":$(head -n1 "$SCRATCH/display")"
  exec 3>&-
  mkdir -m 700 "$SCRATCH/runtime"
  export XDG_RUNTIME_DIR="$SCRATCH/runtime" XDG_DATA_HOME="$SCRATCH/data" XDG_CONFIG_HOME="$SCRATCH/config" \
    XDG_CACHE_HOME="$SCRATCH/cache"
}

stop_scratch_desktop() {
  if [ -n "${XVFB_PID:-}" ]; then
    kill "$XVFB_PID" 2>/dev/null && wait "$XVFB_PID" 2>/dev/null
  fi
  rm -rf "${SCRATCH:-/nonexistent}"
}
