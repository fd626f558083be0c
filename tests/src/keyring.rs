//! The real OS keychain in tests (Linux: gnome-keyring over the Secret Service D-Bus API).
//!
//! `scripts/test.sh` (`make test`) runs every test inside `dbus-run-session` with a throwaway,
//! unlocked gnome-keyring and sets `DCR_TEST_KEYRING=1`. Tests that need the keychain call
//! [`require_test_keyring`] and fail, never skip, without it.
//!
//! A locked keychain needs a keyring nobody else uses, so such a test re-runs one test of its own
//! binary in a child process ([`run_child_test`]) inside a private `dbus-run-session`, with its
//! own XDG folders and no display (gnome-keyring's unlock prompt then fails at once instead of
//! waiting for a click). The child starts its own daemon ([`GnomeKeyring::start`]) and locks it
//! ([`GnomeKeyring::lock_default_collection`]).

use std::io::Write;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Set to `1` by scripts/test.sh inside its D-Bus session with an unlocked keyring.
pub const KEYRING_ENV: &str = "DCR_TEST_KEYRING";
/// Tells a child test process which role it plays (see [`run_child_test`]).
pub const CHILD_ENV: &str = "DCR_TEST_CHILD";

/// Fails the test, saying how to run it, unless a test keyring is available.
pub fn require_test_keyring(test: &str) {
    assert_eq!(
        std::env::var(KEYRING_ENV).as_deref(),
        Ok("1"),
        "{test} needs the real OS keychain: run it through `make test` (scripts/test.sh), which \
         starts a D-Bus session with a throwaway unlocked gnome-keyring and sets {KEYRING_ENV}=1"
    );
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "{KEYRING_ENV}=1 but DBUS_SESSION_BUS_ADDRESS is unset: run the tests inside \
         `dbus-run-session` with gnome-keyring started and unlocked (see scripts/test.sh)"
    );
}

/// Whether this process is the child started by [`run_child_test`] for `role`.
pub fn is_child(role: &str) -> bool {
    std::env::var(CHILD_ENV).as_deref() == Ok(role)
}

/// The name the test harness gives function `test` of module `module` (its `module_path!()`):
/// the path without the test binary's own crate name, as `--exact` wants it. A test binary holds
/// several modules, so a bare function name would not select the child test.
pub fn test_in(module: &str, test: &str) -> String {
    match module.split_once("::") {
        Some((_, path)) => format!("{path}::{test}"),
        None => test.to_owned(),
    }
}

/// Runs test `name` (its full name, see [`test_in`]) of the current test binary in a child process inside its own
/// `dbus-run-session`, with fresh XDG folders and no display, and `CHILD_ENV=role`. Returns
/// its output after it exits; [`assert_child_passed`] checks it.
pub fn run_child_test(name: &str, role: &str) -> Output {
    let scratch = std::env::temp_dir().join(format!(
        "dcr-child-{role}-{}-{}",
        std::process::id(),
        nanos()
    ));
    let runtime = scratch.join("runtime");
    std::fs::create_dir_all(&runtime).expect("scratch folder");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700))
            .expect("runtime folder permissions");
    }
    let output = Command::new("dbus-run-session")
        .arg("--")
        .arg(std::env::current_exe().expect("the test binary's path"))
        .args([
            name,
            "--exact",
            "--include-ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, role)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("XDG_DATA_HOME", scratch.join("data"))
        .env("XDG_CONFIG_HOME", scratch.join("config"))
        .env("XDG_CACHE_HOME", scratch.join("cache"))
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(Stdio::null())
        .output()
        .expect("could not start the child test (dbus-run-session comes with dbus)");
    let _ = std::fs::remove_dir_all(&scratch);
    output
}

pub fn assert_child_passed(output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child test failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The parent half of a test that locks a keyring: it needs the test keyring (`test` names it
/// in the failure), then runs test `child` (its full name, see [`test_in`]) as `role` in its own D-Bus session and checks that it
/// passed, so the keyring it locks is never the one the other tests use.
pub fn run_in_own_session(test: &str, child: &str, role: &str) {
    require_test_keyring(test);
    assert_child_passed(&run_child_test(child, role));
}

/// The child half: fails, naming the `parent` test to run instead, unless it was started by
/// [`run_in_own_session`] as `role`.
pub fn assert_started_as(role: &str, parent: &str) {
    assert!(
        is_child(role),
        "run {parent} instead: this half locks the keyring of the D-Bus session it runs in"
    );
}

/// How many of this app's keychain entries name `issuer` (the Secret Service's readable
/// `issuer` attribute, as `secret-tool` lists them), whatever their mode, client or form. Each
/// test's identity server has its own port, so its issuer names only that test's entries.
pub fn entries_for_issuer(issuer: &str) -> usize {
    let output = secret_tool(&["search", "--all"], issuer);
    // The listing holds the secrets too: only the attribute lines are looked at, never shown.
    let wanted = format!("attribute.issuer = {issuer}");
    let listing = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    listing.lines().filter(|line| line.trim() == wanted).count()
}

/// Deletes this app's keychain entries that name `issuer`: what an earlier run on the same port
/// may have left in the session's keyring.
pub fn clear_entries_for_issuer(issuer: &str) {
    // Its exit status says whether anything matched, which does not matter here; a missing
    // tool does, and panics in `secret_tool`.
    secret_tool(&["clear"], issuer);
}

fn secret_tool(command: &[&str], issuer: &str) -> Output {
    Command::new("secret-tool")
        .args(command)
        .args([
            "service",
            dcr_core::device::store::KEYCHAIN_SERVICE,
            "issuer",
            issuer,
        ])
        .stdin(Stdio::null())
        .output()
        .expect("secret-tool (libsecret-tools) is needed for the keychain tests")
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// A foreground gnome-keyring-daemon (secrets component), unlocked with a known password and
/// killed when dropped. Only for a private D-Bus session ([`run_child_test`]).
pub struct GnomeKeyring {
    daemon: Child,
}

impl GnomeKeyring {
    pub fn start() -> GnomeKeyring {
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon is needed for the locked-keychain test");
        let mut stdin = daemon.stdin.take().expect("stdin is piped");
        stdin
            .write_all(b"test-keyring-password")
            .expect("the keyring password");
        drop(stdin);
        let mut keyring = GnomeKeyring { daemon };
        keyring.wait_until_ready();
        keyring
    }

    /// Waits until the Secret Service name has an owner, so D-Bus activation never starts a
    /// second daemon behind the test's back.
    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !name_has_owner() {
            assert!(
                self.daemon.try_wait().ok().flatten().is_none(),
                "gnome-keyring-daemon exited early"
            );
            assert!(
                Instant::now() < deadline,
                "gnome-keyring-daemon did not take the Secret Service name"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `org.freedesktop.Secret.Service.Lock` on the default collection (no prompt needed).
    pub fn lock_default_collection(&self) {
        let output = dbus_send(&[
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/aliases/default",
        ]);
        assert!(
            output.status.success(),
            "locking the keyring failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Whether the default collection reports itself locked (its `Locked` property).
    pub fn default_collection_locked(&self) -> bool {
        let output = dbus_send(&[
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets/aliases/default",
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.Secret.Collection",
            "string:Locked",
        ]);
        String::from_utf8_lossy(&output.stdout).contains("boolean true")
    }
}

impl Drop for GnomeKeyring {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

fn name_has_owner() -> bool {
    let output = dbus_send(&[
        "--dest=org.freedesktop.DBus",
        "/",
        "org.freedesktop.DBus.NameHasOwner",
        "string:org.freedesktop.secrets",
    ]);
    String::from_utf8_lossy(&output.stdout).contains("boolean true")
}

fn dbus_send(args: &[&str]) -> Output {
    Command::new("dbus-send")
        .args(["--session", "--print-reply"])
        .args(args)
        .output()
        .expect("dbus-send (from dbus) is needed for the keychain tests")
}
