//! End-to-end: the packages `cargo tauri build` makes. The `.deb` is installed into this
//! machine with `dpkg -i` (CI runs as root), its desktop entry and `io.curity.dcrclient:` handler
//! are checked where the system looks them up, the INSTALLED binary is driven through the
//! first-run flow in its real window (with the config where an administrator deploys it), and
//! restarted with `rememberSignIn`; then the package is removed with `dpkg -r`, and the user's
//! keychain entry is still there ("Forget this device" is the way to remove it). The `.rpm` cannot
//! be installed on this Debian machine: its files and desktop entry are read from the file.
//!
//! scripts/test.sh builds both packages and sets `DCR_PACKAGE_DEB` / `DCR_PACKAGE_RPM`.
//!
//! A binary of its own: the package it installs puts the app and its config system-wide, where
//! no other test may meet them.

mod install;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::install::{
    built_package, check_desktop_entry, deb_field, default_scheme_handler, dpkg_knows, stdout_of,
    Installed, INSTALLED_APP, SYSTEM_CONFIG,
};
use dcr_core::config::Config;
use dcr_core::device::store::{KeychainStore, RegistrationStore, StoreKey};
use dcr_tests::app::{register_through_ui, write_config};
use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::{procs, Idp};
use serde_json::json;

/// The version is set once, in the workspace Cargo.toml (tauri.conf.json has none, so Tauri takes
/// Cargo's); this crate inherits the same one.
const WORKSPACE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The hicolor folders the package's icons go to (`bundle.icon` in tauri.conf.json; the bundler
/// names the 256 px `128x128@2x.png` `256x256@2`).
const ICON_SIZES: [&str; 5] = ["32x32", "64x64", "128x128", "256x256@2", "512x512"];

/// The app's own folders for this test (config, data, cache), so no other test's user config or
/// web view data changes what the installed app sees. The same for both starts.
struct Home {
    root: PathBuf,
}

impl Home {
    fn new() -> Home {
        let root = std::env::temp_dir().join(format!("dcr-e2e-package-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(&root).expect("a scratch folder");
        Home { root }
    }

    /// Starts the installed app (not `DCR_APP_BINARY`) with these folders, and no `DCR_CONFIG`.
    async fn launch(&self, args: &[&str]) -> Desktop {
        self.launch_with_system_override(args, None).await
    }

    /// [`launch`](Self::launch), with `DCR_SYSTEM_CONFIG` set: a debug build would read the
    /// system-wide config from there, an installed (release) build must not.
    async fn launch_with_system_override(&self, args: &[&str], system: Option<&Path>) -> Desktop {
        let config = self.root.join("config");
        let data = self.root.join("data");
        let cache = self.root.join("cache");
        let env = [
            ("XDG_CONFIG_HOME", Some(config.as_os_str())),
            ("XDG_DATA_HOME", Some(data.as_os_str())),
            ("XDG_CACHE_HOME", Some(cache.as_os_str())),
            ("DCR_CONFIG", None::<&OsStr>),
            ("DCR_SYSTEM_CONFIG", system.map(Path::as_os_str)),
        ];
        Desktop::launch_binary(Path::new(INSTALLED_APP), args, &env).await
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Ends the session and waits until no installed app runs any more (a start without arguments
/// cannot be told apart by its command line, so [`Desktop::close`] does not wait for it). As
/// `Desktop::close` does for the debug app: one that lingers after 10 s gets SIGTERM, and fails the
/// test if it is still there 10 s later.
async fn close(desktop: Desktop) {
    desktop.close().await;
    let installed = || procs::running_exe(Path::new(INSTALLED_APP));
    procs::wait_until_gone(installed, "the installed app").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deb_installs_registers_the_scheme_runs_first_run_and_restart_and_removes_cleanly() {
    require_test_keyring("the package test");
    let deb = built_package("DCR_PACKAGE_DEB");
    assert_eq!(deb_field(&deb, "Version"), WORKSPACE_VERSION);
    // The binary links the TPM 2.0 software stack (the TPM-held device key): the package must
    // bring its libraries, under Debian 12's names or Ubuntu 24.04's.
    let depends = deb_field(&deb, "Depends");
    for library in [
        "libtss2-esys-3.0.2-0",
        "libtss2-tctildr0",
        "libtss2-mu",
        "libtss2-sys1",
    ] {
        assert!(
            depends.contains(library),
            "{library} missing from Depends: {depends}"
        );
    }
    let xdg = std::env::temp_dir().join(format!("dcr-e2e-package-xdg-{}", std::process::id()));
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;

    // Installed: the binary, the desktop entry, the icons it names, and the scheme handler.
    let package = Installed::clean_slate(&deb);
    assert_eq!(
        default_scheme_handler(&xdg),
        "",
        "before the install nothing handles the scheme, so the check below means something"
    );
    package.install(&deb);
    let files = package.files();
    assert!(files.iter().any(|file| file == Path::new(INSTALLED_APP)));
    let entries: Vec<&PathBuf> = files
        .iter()
        .filter(|file| {
            file.starts_with("/usr/share/applications")
                && file.extension() == Some(OsStr::new("desktop"))
        })
        .collect();
    assert_eq!(entries.len(), 1, "one desktop entry: {entries:?}");
    let entry = entries[0];
    let entry_name = entry.file_name().expect("a file name").to_string_lossy();
    let icon = check_desktop_entry(&std::fs::read_to_string(entry).expect("the desktop entry"));
    stdout_of("desktop-file-validate", &[&entry.display().to_string()]);
    for size in ICON_SIZES {
        let png = PathBuf::from(format!("/usr/share/icons/hicolor/{size}/apps/{icon}.png"));
        assert!(files.contains(&png), "the {size} icon: {files:?}");
    }
    assert_eq!(
        default_scheme_handler(&xdg),
        entry_name,
        "`xdg-mime query default {}` names the package's entry",
        crate::install::SCHEME_MIME_TYPE
    );
    let cache = std::fs::read_to_string("/usr/share/applications/mimeinfo.cache")
        .expect("dpkg's desktop-file-utils trigger writes the MIME cache");
    assert!(
        cache.lines().any(|line| line
            .starts_with(&format!("{}=", crate::install::SCHEME_MIME_TYPE))
            && line.contains(entry_name.as_ref())),
        "the MIME cache lists the handler:\n{cache}"
    );

    let idp = Idp::start().await;
    let home = Home::new();
    // The administrator's config keeps users signed in across restarts.
    let deployed = write_config(&idp, json!({ "rememberSignIn": true }));

    // No config anywhere: the installed (release) build has no development fallback, and does not
    // take the system-wide file from the environment (a valid one is offered there); it asks.
    let desktop = home.launch_with_system_override(&[], Some(&deployed)).await;
    desktop
        .wait_for_text("#setup-searched", SYSTEM_CONFIG)
        .await;
    desktop.screenshot("package-01-setup").await;
    close(desktop).await;

    // The administrator deploys the config; the user starts the app with no arguments: first run.
    let deployed_text = std::fs::read_to_string(&deployed).expect("the config");
    package.deploy_system_config(&deployed_text);
    let desktop = home.launch(&[]).await;
    let main = desktop.main_window().await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    desktop.screenshot("package-02-register").await;
    register_through_ui(&desktop, &main).await;
    desktop.screenshot("package-03-home").await;
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1, "one registration");
    close(desktop).await;

    // A restart: with rememberSignIn the installed app goes straight to Home (one refresh, no
    // window).
    let desktop = home.launch(&[]).await;
    desktop.wait_for_text("#user-name", "Demo User").await;
    desktop.screenshot("package-04-restarted").await;
    close(desktop).await;

    // Removed: binary, entry and handler are gone; the user's keychain entry stays.
    package.remove();
    assert!(!dpkg_knows(&package.package), "dpkg -r removed the package");
    assert!(!Path::new(INSTALLED_APP).exists());
    assert!(!entry.exists());
    assert_eq!(default_scheme_handler(&xdg), "", "no handler once removed");
    let config = Config::from_json(&deployed_text).expect("the deployed config is valid");
    let key = StoreKey::new(
        config.issuer.as_str(),
        &config.registration_client_id,
        config.registered_redirect_uri().as_str(),
        config.software_id.as_deref(),
    );
    let kept = tokio::task::spawn_blocking(move || KeychainStore::new().load(&key))
        .await
        .expect("the keychain call")
        .expect("the keychain answers");
    assert_eq!(
        kept.map(|entry| entry.registration.client_id),
        Some(clients[0].client_id.clone()),
        "removing the package leaves the user's registration in the keychain"
    );
    drop(package);
    let _ = std::fs::remove_dir_all(&xdg);
}

/// The `.rpm` (not installable on this Debian machine): the same version, binary, icons and
/// desktop entry as the `.deb`, and the dependencies of the system-browser mode and the TPM key.
#[test]
fn the_rpm_has_the_same_version_binary_icons_and_desktop_entry_as_the_deb() {
    let rpm = built_package("DCR_PACKAGE_RPM");
    let deb = built_package("DCR_PACKAGE_DEB");
    let rpm = rpm.display().to_string();
    let query = |format: &str| stdout_of("rpm", &["-qp", "--queryformat", format, &rpm]);
    assert_eq!(query("%{VERSION}"), WORKSPACE_VERSION);
    let requires = stdout_of("rpm", &["-qp", "--requires", &rpm]);
    for dependency in ["xdg-utils", "tpm2-tss"] {
        assert!(
            requires.lines().any(|line| line.trim() == dependency),
            "{dependency} missing: {requires}"
        );
    }
    let files = stdout_of("rpm", &["-qlp", &rpm]);
    let files: Vec<&str> = files.lines().collect();
    assert!(files.contains(&INSTALLED_APP), "{files:?}");
    let entries: Vec<&&str> = files
        .iter()
        .filter(|file| file.starts_with("/usr/share/applications/") && file.ends_with(".desktop"))
        .collect();
    assert_eq!(entries.len(), 1, "{files:?}");
    let entry = entries[0];

    let rpm_entry = extract(
        &format!("rpm2cpio '{rpm}' | cpio -i --quiet --to-stdout '.{entry}'"),
        "the rpm's desktop entry",
    );
    let deb_entry = extract(
        &format!(
            "dpkg-deb --fsys-tarfile '{}' | tar -xO '{}'",
            deb.display(),
            entry.trim_start_matches('/')
        ),
        "the deb's desktop entry",
    );
    let icon = check_desktop_entry(&rpm_entry);
    assert_eq!(rpm_entry, deb_entry, "both packages ship the same entry");
    for size in ICON_SIZES {
        let png = format!("/usr/share/icons/hicolor/{size}/apps/{icon}.png");
        assert!(files.contains(&png.as_str()), "the {size} icon: {files:?}");
    }
}

/// A shell pipeline's output (the paths are the packages' own, quoted). The last command's status
/// counts: Debian's rpm2cpio exits 1 after writing the whole payload of the bundler's `.rpm`, and a
/// missing or empty file fails the checks on the text anyway.
fn extract(pipeline: &str, what: &str) -> String {
    let output = Command::new("bash")
        .args(["-c", pipeline])
        .stdin(Stdio::null())
        .output()
        .expect("sh");
    assert!(
        output.status.success() && !output.stdout.is_empty(),
        "cannot read {what} ({pipeline}): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}
