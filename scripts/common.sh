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
TEST_PACKAGES=(xvfb xauth dbus-daemon dbus-bin webkit2gtk-driver gnome-keyring libsecret-tools)

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

install_tauri_driver() {
  command -v tauri-driver >/dev/null && return 0
  log "installing tauri-driver"
  cargo install tauri-driver --locked --version '^2' --quiet
}
