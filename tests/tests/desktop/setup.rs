//! End-to-end: with no config anywhere the app has no built-in one to fall back
//! on (the development config points at a loopback http port any local process could take). It
//! shows the setup screen, which names the files it looked for and takes the config.json the user
//! chooses, in the real WebKitGTK window's file input.
//!
//! Each test gives the app its own empty `XDG_CONFIG_HOME` (the user's config folder), no
//! `DCR_CONFIG` and no `--config`, and points the system-wide file at a scratch path with
//! `DCR_SYSTEM_CONFIG` (honoured by debug builds only), so a machine with a real
//! /etc/io.curity.dcrclient/config.json cannot change what they see.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use dcr_tests::app::{current_state, write_config};
use dcr_tests::desktop::{Desktop, ONE_WINDOW_AT_A_TIME};
use dcr_tests::Idp;
use serde_json::json;

/// A scratch world for one test: the user's config folder and the system-wide file, both absent.
struct Scratch {
    root: PathBuf,
    config_home: PathBuf,
    system_file: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        let root = std::env::temp_dir().join(format!("dcr-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let config_home = root.join("config");
        std::fs::create_dir_all(&config_home).expect("cannot create the scratch config folder");
        let system_file = root.join("etc/io.curity.dcrclient/config.json");
        Scratch {
            root,
            config_home,
            system_file,
        }
    }

    /// Where the app keeps the user's config (`app_config_dir()/config.json`).
    fn user_file(&self) -> PathBuf {
        self.config_home.join("io.curity.dcrclient/config.json")
    }

    /// Opens the app with no `--config`, no `DCR_CONFIG`, and this world's folders.
    async fn launch(&self) -> Desktop {
        let env = [
            ("XDG_CONFIG_HOME", Some(self.config_home.as_os_str())),
            ("DCR_SYSTEM_CONFIG", Some(self.system_file.as_os_str())),
            ("DCR_CONFIG", None::<&OsStr>),
        ];
        Desktop::launch_with_env(&[], &env).await
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_config_the_setup_screen_names_the_files_and_installs_a_chosen_one() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = Idp::start().await;
    let scratch = Scratch::new("setup");
    let user_file = scratch.user_file();

    // No config anywhere: the setup screen, listing both places it looked, and no way around it.
    let desktop = scratch.launch().await;
    let listed = desktop
        .wait_for_text("#setup-searched", &user_file.display().to_string())
        .await;
    assert!(
        listed.contains(&scratch.system_file.display().to_string()),
        "the system-wide file is listed too: {listed}"
    );
    assert_eq!(desktop.text_of("h1").await, "Choose a configuration");
    assert!(
        !desktop.has("#register").await,
        "no registration without a config"
    );
    let state = current_state(&desktop).await;
    assert_eq!(state["error"]["kind"], "configMissing", "{state}");
    desktop.screenshot("00-setup").await;

    // An invalid file: the error names the key, and nothing is written.
    let picked = scratch.root.join("picked");
    std::fs::create_dir_all(&picked).expect("cannot create the picked-files folder");
    let invalid = picked.join("typo.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&text(&write_config(&idp, json!({})))).expect("json");
    config["registrationClientId"] = json!("typo-in-the-key-name");
    std::fs::write(&invalid, config.to_string()).expect("cannot write the invalid config");
    desktop.choose_file("#config-file", &invalid).await;
    let message = desktop
        .wait_for_text("#setup-error-message", "registrationClientId")
        .await;
    assert!(
        message.contains("remove it or fix its spelling"),
        "the message says the fix: {message}"
    );
    assert!(!user_file.exists(), "an invalid config is never saved");
    assert!(
        desktop.has("#setup-searched").await,
        "still on the setup screen"
    );
    desktop.screenshot("00b-setup-invalid-file").await;

    // A valid file for this test's identity server: saved to the user's config folder, and the
    // app moves on to registration with it.
    let valid = write_config(&idp, json!({}));
    desktop.choose_file("#config-file", &valid).await;
    desktop.wait_for_text("h1", "Register this device").await;
    assert_eq!(
        text(&user_file),
        text(&valid),
        "the chosen file, saved as is"
    );
    let state = current_state(&desktop).await;
    assert_eq!(state["state"], "unregistered", "{state}");
    let host = format!("127.0.0.1:{}", idp.issuer.port().expect("port"));
    assert_eq!(state["issuerHost"], host.as_str(), "{state}");
    desktop.screenshot("00c-setup-done").await;
    desktop.close().await;

    // The next start finds the saved file: no setup screen again.
    let desktop = scratch.launch().await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    assert_eq!(current_state(&desktop).await["issuerHost"], host.as_str());
    desktop.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_system_wide_file_is_used_when_the_user_has_none() {
    let _one = ONE_WINDOW_AT_A_TIME.lock().await;
    let idp = Idp::start().await;
    let scratch = Scratch::new("system-config");
    let system_dir = scratch.system_file.parent().expect("folder");
    std::fs::create_dir_all(system_dir).expect("cannot create the system config folder");
    std::fs::copy(write_config(&idp, json!({})), &scratch.system_file)
        .expect("cannot place the system-wide config");

    let desktop = scratch.launch().await;
    assert_eq!(desktop.text_of("h1").await, "Register this device");
    let host = format!("127.0.0.1:{}", idp.issuer.port().expect("port"));
    assert_eq!(current_state(&desktop).await["issuerHost"], host.as_str());
    assert!(
        !scratch.user_file().exists(),
        "the administrator's file is read in place, not copied"
    );
    desktop.close().await;
}
