//! The `dcr` binary under test: where it is, how a test starts it, and a fresh setup for it.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use dcr_core::device::store::{KeychainStore, RegistrationStore};

use crate::engine::{self, Form};
use crate::{Idp, IdpOptions};

/// `DCR_CLI_BINARY` (scripts/test.sh sets it), else the debug build in the target directory,
/// built first with `cargo build -p dcr-cli` so it is never stale.
pub fn cli_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        if let Some(path) = std::env::var_os("DCR_CLI_BINARY") {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "DCR_CLI_BINARY={} does not exist",
                path.display()
            );
            return path;
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--quiet", "-p", "dcr-cli"])
            .current_dir(crate::repo_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "`cargo build -p dcr-cli` failed");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| crate::repo_root().join("target"));
        target
            .join("debug")
            .join(format!("dcr{}", std::env::consts::EXE_SUFFIX))
    })
}

/// Starts `dcr --config <config> <args…>` with all three pipes (the manual mode's protocol:
/// `open: <url>` lines on stderr, the final URL on stdin), killed if the test drops it.
pub fn spawn(config: &Path, args: &[&str]) -> tokio::process::Child {
    spawn_with_env(config, args, &[])
}

/// [`spawn`] with extra environment variables (say `TPM2TOOLS_TCTI`).
pub fn spawn_with_env(config: &Path, args: &[&str], env: &[(&str, &str)]) -> tokio::process::Child {
    tokio::process::Command::new(cli_binary())
        .envs(env.iter().copied())
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("dcr starts")
}

/// A fresh identity server, no keychain entry for it (an earlier run may have used the same
/// port), and a `config.json` pointing at it, in a folder removed on drop.
pub struct Setup {
    pub idp: Idp,
    pub dir: PathBuf,
    pub config: PathBuf,
}

impl Setup {
    pub async fn new(form: Form) -> Setup {
        Setup::configured(IdpOptions::default(), form, serde_json::json!({})).await
    }

    /// A server started with `options`, and `extra` keys over the tutorial's config (say a
    /// device-bound client on the `device-bound` profile).
    pub async fn configured(options: IdpOptions, form: Form, extra: serde_json::Value) -> Setup {
        let idp = Idp::start_with(options).await;
        KeychainStore::new()
            .delete(&engine::store_key(&idp, form))
            .expect("the Secret Service answers");
        let dir = std::env::temp_dir().join(format!(
            "dcr-cli-test-{}-{}",
            std::process::id(),
            crate::random_token(8)
        ));
        std::fs::create_dir_all(&dir).expect("a scratch folder");
        let config = dir.join("config.json");
        let mut json = engine::config_json(&idp, form);
        if let (Some(base), Some(extra)) = (json.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        std::fs::write(&config, json.to_string()).expect("the config is written");
        Setup { idp, dir, config }
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
