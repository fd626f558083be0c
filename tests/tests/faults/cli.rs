//! Fault injection, process level (docs/faults.md): the `dcr` CLI process, which runs
//! the same engine as the app, killed (SIGKILL) during registration and started again, with the
//! real identity server and the real keychain. The server stalls the registration request at a
//! chosen point (before processing it, or after processing it with the 201 held back), the test
//! kills the process there, and then checks the keychain, the server's clients and the next run.

use std::path::Path;

use dcr_core::device::store::{KeychainStore, RegistrationStore};
use dcr_tests::cli::{spawn, Setup};
use dcr_tests::engine::{self, Form};
use dcr_tests::faults::{client_ids, Action, Fault};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::{Idp, ScriptedBrowser, DEMO_USER};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Child;
use url::Url;

/// Starts `dcr --config <config> register` and plays its one browser step (the registration
/// login) by its manual-mode protocol; returns the still running process.
async fn start_register(config: &Path, browser: &ScriptedBrowser) -> Child {
    let mut child = spawn(config, &["register"]);
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("dcr asks to open the login page");
        if let Some(url) = line.strip_prefix("open: ") {
            break Url::parse(url).unwrap();
        }
    };
    let back = browser.open(url, Some(DEMO_USER)).await.unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(format!("{back}\n").as_bytes())
        .await
        .unwrap();
    stdin.flush().await.unwrap();
    // Keep stdin open (EOF would be an answer) and drain stderr.
    tokio::spawn(async move {
        let _stdin = stdin;
        while let Ok(Some(_)) = lines.next_line().await {}
    });
    child
}

fn stored_client(idp: &Idp) -> Option<String> {
    KeychainStore::new()
        .load(&engine::store_key(idp, Form::Full))
        .unwrap()
        .map(|stored| stored.registration.client_id)
}

/// Kills `dcr register` while the server holds its registration request, `action` saying
/// whether the server processed it first.
async fn kill_during_registration(idp: &Idp, config: &Path, action: Action, needle: &str) {
    let browser = ScriptedBrowser::new();
    idp.arm(Fault::new("POST", "/reg", 1, action)).await;
    let mut child = start_register(config, &browser).await;
    idp.wait_for_log(needle).await;
    child.kill().await.expect("SIGKILL");
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), None, "killed by a signal");
}

/// `dcr register` killed while the registration request is held before the server
/// processed it (nothing created, nothing stored) and after (the server created the client, the
/// process never saw the 201: the one window, docs/faults.md); each time the next `dcr register`
/// succeeds (the dead process's cross-process lock is released with it) and stores exactly the
/// client it registered.
#[tokio::test]
async fn fi4_cli_killed_during_registration_leaves_a_clear_state() {
    require_test_keyring("fi4_cli_killed_during_registration_leaves_a_clear_state");
    let setup = Setup::new(Form::Full).await;
    let (idp, config) = (&setup.idp, &setup.config);
    let keychain = KeychainStore::new();

    // Killed before the server processed the request: nothing anywhere.
    kill_during_registration(idp, config, Action::HangBefore, "unprocessed").await;
    assert_eq!(stored_client(idp), None, "nothing half-stored");
    assert!(client_ids(idp).await.is_empty(), "no client was created");

    // Killed after the server created the client, before its answer reached the process.
    kill_during_registration(idp, config, Action::HangAfter, "holding the response").await;
    assert_eq!(stored_client(idp), None, "nothing half-stored");
    let orphans = client_ids(idp).await;
    assert_eq!(orphans.len(), 1, "the documented window: {orphans:?}");

    // The next run registers and stores its own client; the earlier one stays the only orphan.
    let mut child = start_register(config, &ScriptedBrowser::new()).await;
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .await
        .unwrap();
    assert!(child.wait().await.unwrap().success(), "{stdout}");
    let out: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    let client_id = out["client_id"].as_str().unwrap().to_owned();
    assert_eq!(stored_client(idp).as_deref(), Some(client_id.as_str()));
    let clients = client_ids(idp).await;
    assert_eq!(clients, [orphans[0].clone(), client_id.clone()]);

    keychain
        .delete(&engine::store_key(idp, Form::Full))
        .unwrap();
}
