//! The `.deb` and `.rpm` that `tauri build` makes (scripts/test.sh builds them and exports
//! their paths), and installing the `.deb` into this machine for the package test.
//!
//! The test machine may be reused between runs (CI, a developer's laptop), so installing is
//! guarded: [`Installed`] removes the package and the system-wide config again when dropped, also
//! when the test fails, and a leftover from a run that was killed before its clean-up is removed
//! at the next start. What a test installed is told apart from a person's own install by a marker
//! file: a real install (no marker) is never touched; the test fails and says what to do.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use dcr_tests::procs::stdout_of_success;

/// Where the package puts the app (`/usr/bin/<binary>`).
pub const INSTALLED_APP: &str = "/usr/bin/dcr-desktop";
/// The system-wide config an administrator deploys (src-tauri/src/config_source.rs).
pub const SYSTEM_CONFIG: &str = "/etc/io.curity.dcrclient/config.json";
/// The URI scheme the package registers (the deep-link plugin's `schemes` in tauri.conf.json).
pub const SCHEME_MIME_TYPE: &str = "x-scheme-handler/io.curity.dcrclient";
/// Written before a test installs anything, removed after it has removed everything again.
const MARKER: &str = "/var/lib/dcr-desktop-tests/package-installed-by-e2e-package";

/// A package file scripts/test.sh built: `DCR_PACKAGE_DEB` or `DCR_PACKAGE_RPM`.
pub fn built_package(variable: &str) -> PathBuf {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!(
                "{variable} is unset: run the package test through `make test` or \
             `scripts/test.sh --test e2e_package`, which build the packages with `tauri build`"
            )
        });
    assert!(path.is_file(), "{} does not exist", path.display());
    path
}

/// Runs a command and returns its output; fails the test when it cannot start.
pub fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|error| panic!("cannot run {program}: {error}"))
}

/// Its standard output, after checking that it succeeded.
pub fn stdout_of(program: &str, args: &[&str]) -> String {
    let stdout = stdout_of_success(&format!("{program} {args:?}"), run(program, args));
    String::from_utf8_lossy(&stdout).into_owned()
}

/// Runs a command as root: directly when the tests run as root (CI), else through `sudo -n`
/// (scripts/test.sh asked for the password once, with `sudo -v`).
pub fn as_root(args: &[&str]) -> Output {
    if stdout_of("id", &["-u"]).trim() == "0" {
        run(args[0], &args[1..])
    } else {
        let mut sudo = vec!["-n"];
        sudo.extend_from_slice(args);
        run("sudo", &sudo)
    }
}

fn as_root_ok(args: &[&str]) {
    let output = as_root(args);
    assert!(
        output.status.success(),
        "{args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A control field of a `.deb` (`Package`, `Version`, `Depends`).
pub fn deb_field(deb: &Path, field: &str) -> String {
    stdout_of("dpkg-deb", &["-f", &deb.display().to_string(), field])
        .trim()
        .to_owned()
}

/// Whether dpkg knows the package in any state (installed, half-installed, unpacked, config-files).
pub fn dpkg_knows(package: &str) -> bool {
    let output = run("dpkg-query", &["-W", "-f=${db:Status-Status}", package]);
    output.status.success() && String::from_utf8_lossy(&output.stdout).trim() != "not-installed"
}

/// The package installed by a test, removed again (with the system-wide config) when dropped.
pub struct Installed {
    pub package: String,
}

impl Installed {
    /// Removes what a killed earlier run may have left, and marks what follows as the test's. The
    /// guard exists before dpkg runs, so a half-done install is removed too.
    pub fn clean_slate(deb: &Path) -> Installed {
        let package = deb_field(deb, "Package");
        remove_leftover(&package);
        as_root_ok(&["mkdir", "-p", "/var/lib/dcr-desktop-tests"]);
        as_root_ok(&["touch", MARKER]);
        Installed { package }
    }

    /// `dpkg -i`.
    pub fn install(&self, deb: &Path) {
        as_root_ok(&["dpkg", "-i", &deb.display().to_string()]);
    }

    /// The files the package installed (`dpkg -L`).
    pub fn files(&self) -> Vec<PathBuf> {
        stdout_of("dpkg", &["-L", &self.package])
            .lines()
            .map(PathBuf::from)
            .collect()
    }

    /// What an administrator does: puts the config into the system-wide place.
    pub fn deploy_system_config(&self, text: &str) {
        let staged = std::env::temp_dir().join(format!(
            "dcr-e2e-package-system-config-{}.json",
            std::process::id()
        ));
        std::fs::write(&staged, text).expect("cannot stage the system config");
        as_root_ok(&[
            "install",
            "-D",
            "-m",
            "644",
            &staged.display().to_string(),
            SYSTEM_CONFIG,
        ]);
        let _ = std::fs::remove_file(&staged);
    }

    /// What a user does: `dpkg -r`.
    pub fn remove(&self) {
        as_root_ok(&["dpkg", "-r", &self.package]);
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        clean_up(&self.package);
    }
}

/// Removes the package in whatever state it is, the system-wide config and its folder, then the
/// marker. Idempotent.
fn clean_up(package: &str) {
    if dpkg_knows(package) {
        let output = as_root(&["dpkg", "--purge", package]);
        if !output.status.success() {
            eprintln!(
                "could not remove {package}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            return; // keep the marker: the next run removes the leftover
        }
    }
    let _ = as_root(&["rm", "-f", SYSTEM_CONFIG]);
    if let Some(folder) = Path::new(SYSTEM_CONFIG).parent() {
        let _ = as_root(&[
            "rmdir",
            "--ignore-fail-on-non-empty",
            &folder.display().to_string(),
        ]);
    }
    let _ = as_root(&["rm", "-f", MARKER]);
}

/// A run that was killed (SIGKILL, a CI timeout) never dropped its guard: what it left behind is
/// removed here. Anything else is a person's own install or config, which a test never touches.
fn remove_leftover(package: &str) {
    let installed = dpkg_knows(package);
    let config = Path::new(SYSTEM_CONFIG).exists();
    if !installed && !config {
        return;
    }
    assert!(
        Path::new(MARKER).exists(),
        "{what} on this machine, and not by this test, which would replace and then remove it. \
         Remove it (`dpkg -r {package}`; move {SYSTEM_CONFIG} away) or run the tests on another \
         machine.",
        what = match (installed, config) {
            (true, true) => format!("{package} is installed and {SYSTEM_CONFIG} exists"),
            (true, false) => format!("{package} is installed"),
            _ => format!("{SYSTEM_CONFIG} exists"),
        }
    );
    eprintln!("removing what an earlier, killed package test left behind");
    clean_up(package);
    assert!(
        !dpkg_knows(package),
        "the leftover {package} is still there"
    );
}

/// `xdg-mime query default` for the scheme, seen only through the system's data folder
/// (`/usr/share`, where the package installs) and empty user folders: the answer then says what
/// the package registered, not what this machine's user or desktop happens to have set.
pub fn default_scheme_handler(empty_home: &Path) -> String {
    for folder in ["data", "config", "config-dirs"] {
        std::fs::create_dir_all(empty_home.join(folder)).expect("empty XDG folders");
    }
    let output = Command::new("xdg-mime")
        .args(["query", "default", SCHEME_MIME_TYPE])
        .env("XDG_DATA_DIRS", "/usr/share")
        .env("XDG_DATA_HOME", empty_home.join("data"))
        .env("XDG_CONFIG_HOME", empty_home.join("config"))
        .env("XDG_CONFIG_DIRS", empty_home.join("config-dirs"))
        // No desktop environment: xdg-mime's generic lookup (mimeapps.list, the MIME cache,
        // the desktop entries), which is what a package can register.
        .env_remove("XDG_CURRENT_DESKTOP")
        .env_remove("DESKTOP_SESSION")
        .env_remove("KDE_FULL_SESSION")
        .env_remove("GNOME_DESKTOP_SESSION_ID")
        .stdin(Stdio::null())
        .output()
        .expect("xdg-mime (xdg-utils) is needed: scripts/test.sh installs it");
    let stdout = stdout_of_success("xdg-mime", output);
    String::from_utf8_lossy(&stdout).trim().to_owned()
}

/// Checks a desktop entry the package ships: it starts the installed binary with the link
/// (`%u`: without it a launcher opening an `io.curity.dcrclient:` link starts the app without
/// the link) and declares the scheme. Returns its `Icon` name.
pub fn check_desktop_entry(text: &str) -> String {
    let value = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("the desktop entry has no {key}:\n{text}"))
            .to_owned()
    };
    assert!(text.starts_with("[Desktop Entry]"), "{text}");
    assert_eq!(value("Type"), "Application");
    assert_eq!(value("Name"), "DCR Client");
    assert_eq!(value("Exec"), "dcr-desktop %u", "the link reaches the app");
    assert!(
        value("MimeType")
            .split(';')
            .any(|mime_type| mime_type == SCHEME_MIME_TYPE),
        "the entry handles {SCHEME_MIME_TYPE}:\n{text}"
    );
    value("Icon")
}
