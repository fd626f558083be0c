//! The `dcr` binary as a black box, driven only through its manual-mode protocol, against the
//! bundled identity server and the real keychain: for every `open: <url>` line on stderr the
//! scripted browser opens the URL and the test writes the URL it ended on to stdin. Covers
//! register, `login --refresh --logout`, status, forget, cancellation, and the error line.
//!
//! The binary is `DCR_CLI_BINARY` (scripts/test.sh sets it), else the debug build in the target
//! directory, built first with `cargo build -p dcr-cli` so it is never stale.

use std::path::Path;

use dcr_core::device::store::{KeychainStore, RegistrationStore};
use dcr_tests::cli::{spawn, spawn_with_env, Setup};
use dcr_tests::engine::{self, query, Form};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::{ScriptedBrowser, DEMO_USER};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use url::Url;

/// How the scripted user answers the CLI's browser steps.
#[derive(Clone, Copy)]
pub(crate) enum Answer {
    /// Open the URL, sign in if asked, paste the final URL.
    Browse,
    /// Press Enter on an empty line.
    EmptyLine,
    /// Close stdin (Ctrl-D).
    EndOfInput,
    /// Paste this text instead of the browser's URL.
    Paste(&'static str),
}

pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    /// stderr lines other than `open:` lines.
    pub(crate) stderr: Vec<String>,
    pub(crate) opened: Vec<Url>,
}

impl Run {
    pub(crate) fn json(&self) -> Value {
        assert_eq!(self.code, Some(0), "dcr failed: {:?}", self.stderr);
        assert!(
            self.stderr.is_empty(),
            "nothing but open: lines on stderr: {:?}",
            self.stderr
        );
        assert_eq!(
            self.stdout.lines().count(),
            1,
            "one JSON line: {}",
            self.stdout
        );
        serde_json::from_str(&self.stdout).expect("stdout is JSON")
    }

    /// The `error[<kind>]: <message>` line; checks the exit code and that stdout is empty.
    pub(crate) fn error(&self) -> (String, String) {
        assert_ne!(self.code, Some(0), "dcr should have failed");
        assert_eq!(self.code, Some(1));
        assert!(self.stdout.is_empty(), "{}", self.stdout);
        assert_eq!(self.stderr.len(), 1, "one error line: {:?}", self.stderr);
        let rest = self.stderr[0]
            .strip_prefix("error[")
            .expect("error[<kind>]: …");
        let (kind, message) = rest.split_once("]: ").expect("error[<kind>]: …");
        (kind.to_owned(), message.to_owned())
    }

    fn everything(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr.join("\n"))
    }
}

async fn dcr(config: &Path, args: &[&str], browser: &ScriptedBrowser, answer: Answer) -> Run {
    dcr_with_env(config, args, &[], browser, answer).await
}

/// [`dcr`] with extra environment variables for the process.
pub(crate) async fn dcr_with_env(
    config: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    browser: &ScriptedBrowser,
    answer: Answer,
) -> Run {
    let mut child = spawn_with_env(config, args, env);
    let mut stdin = Some(child.stdin.take().unwrap());
    let mut stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut stderr, mut opened) = (Vec::new(), Vec::new());
    let session = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let Some(url) = line.strip_prefix("open: ") else {
                stderr.push(line);
                continue;
            };
            let url = Url::parse(url).expect("the open: line holds a URL");
            opened.push(url.clone());
            let reply = match answer {
                Answer::Browse => {
                    let back = browser
                        .open(url, Some(DEMO_USER))
                        .await
                        .expect("the login finishes");
                    format!("{back}\n")
                }
                Answer::EmptyLine => "\n".to_owned(),
                Answer::Paste(text) => format!("{text}\n"),
                Answer::EndOfInput => {
                    stdin.take();
                    continue;
                }
            };
            let pipe = stdin.as_mut().expect("stdin is open");
            pipe.write_all(reply.as_bytes()).await.unwrap();
            pipe.flush().await.unwrap();
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), session)
        .await
        .expect("dcr finished within a minute");
    let mut out = String::new();
    stdout.read_to_string(&mut out).await.unwrap();
    let status = child.wait().await.unwrap();
    Run {
        code: status.code(),
        stdout: out.trim_end().to_owned(),
        stderr,
        opened,
    }
}

#[tokio::test]
async fn cli_register_login_refresh_logout_status_forget() {
    require_test_keyring("cli_register_login_refresh_logout_status_forget");
    let setup = Setup::new(Form::Full).await;
    let (idp, config) = (&setup.idp, &setup.config);
    let browser = ScriptedBrowser::new();
    let mut outputs = Vec::new();

    let status = dcr(config, &["status"], &browser, Answer::Browse).await;
    assert_eq!(status.json()["registered"], false);
    assert!(status.opened.is_empty());

    // register: one browser step (the registration login), then {"client_id": …}.
    let run = dcr(config, &["register"], &browser, Answer::Browse).await;
    let out = run.json();
    let client_id = out["client_id"].as_str().expect("client_id").to_owned();
    assert_eq!(out.as_object().unwrap().len(), 1, "{out}");
    assert_eq!(run.opened.len(), 1);
    assert_eq!(
        query(&run.opened[0], "client_id").as_deref(),
        Some("mobile-dcr-client")
    );
    assert_eq!(query(&run.opened[0], "prompt").as_deref(), Some("login"));
    let clients = idp.admin_list_clients().await;
    assert_eq!(clients.len(), 1);
    assert_eq!(clients[0].client_id, client_id);
    outputs.push(run.everything());

    // login --refresh --logout: the sign-in (SSO: no second password) and the logout page.
    let run = dcr(
        config,
        &["login", "--refresh", "--logout"],
        &browser,
        Answer::Browse,
    )
    .await;
    let out = run.json();
    assert_eq!(out["sub"], "demouser");
    assert_eq!(out["display_name"], "Demo User", "the app's Home greeting");
    assert_eq!(out["claims"]["name"], "Demo User");
    assert!(
        out["expires_in"]
            .as_i64()
            .is_some_and(|s| s > 0 && s <= 300),
        "{out}"
    );
    assert_eq!(out["refreshed"], true);
    assert_eq!(out["logged_out"], true);
    assert_eq!(run.opened.len(), 2);
    assert_eq!(
        query(&run.opened[0], "client_id").as_deref(),
        Some(client_id.as_str())
    );
    assert!(
        query(&run.opened[1], "id_token_hint").is_some(),
        "the logout step"
    );
    assert_eq!(browser.password_posts(), 1);
    outputs.push(run.everything());

    // status: registered, never a secret.
    let run = dcr(config, &["status"], &browser, Answer::Browse).await;
    let out = run.json();
    assert_eq!(out["registered"], true);
    assert_eq!(out["issuer"], idp.issuer.as_str());
    assert_eq!(out["client_id"], client_id.as_str());
    assert!(out["registered_at"].as_i64().is_some());
    assert_eq!(out["client_secret_expires_at"], 0);
    // A client secret without DPoP: no device key, so nothing holds one.
    assert_eq!(out["device_key_holder"], Value::Null);
    assert_eq!(out["device_key"], Value::Null);
    let text = out.to_string();
    assert!(
        !text.contains("secret\":\"") && !text.contains("token"),
        "{text}"
    );
    assert!(run.opened.is_empty());
    outputs.push(run.everything());

    // After the logout the password is needed again: an empty answer is a cancellation.
    let run = dcr(config, &["login"], &browser, Answer::EmptyLine).await;
    let (kind, message) = run.error();
    assert_eq!(kind, "cancelled", "{message}");
    outputs.push(run.everything());

    // forget: RFC 7592 delete on the server, and the keychain entry is gone.
    let run = dcr(config, &["forget"], &browser, Answer::Browse).await;
    assert_eq!(run.json()["server_deleted"], true);
    assert!(run.opened.is_empty());
    assert!(idp.admin_list_clients().await.is_empty());
    assert_eq!(
        dcr(config, &["status"], &browser, Answer::Browse)
            .await
            .json()["registered"],
        false
    );
    let run = dcr(config, &["login"], &browser, Answer::Browse).await;
    assert_eq!(run.error().0, "notRegistered");
    outputs.push(run.everything());

    let outputs = outputs.join("\n");
    let secrets = idp.admin_issued_secrets_by_kind().await;
    assert!(secrets.iter().any(|s| s.kind == "client_secret"));
    for secret in secrets {
        assert!(
            !outputs.contains(&secret.value),
            "a {} appears in the CLI output",
            secret.kind
        );
    }
}

/// Cancelling the first browser step (an empty line, or end of input) is `error[cancelled]`
/// with a non-zero exit, and nothing is registered.
#[tokio::test]
async fn cli_cancelled_browser_step_is_an_error_and_registers_nothing() {
    require_test_keyring("cli_cancelled_browser_step_is_an_error_and_registers_nothing");
    let setup = Setup::new(Form::Templatized).await;
    let (idp, config) = (&setup.idp, &setup.config);
    let browser = ScriptedBrowser::new();

    for answer in [Answer::EmptyLine, Answer::EndOfInput] {
        let run = dcr(config, &["register"], &browser, answer).await;
        assert_eq!(run.opened.len(), 1, "one browser step was offered");
        let (kind, message) = run.error();
        assert_eq!(kind, "cancelled");
        assert!(message.contains("cancelled"), "{message}");
        assert!(idp.admin_list_clients().await.is_empty());
        let status = dcr(config, &["status"], &browser, Answer::Browse).await;
        assert_eq!(status.json()["registered"], false);
    }
    assert_eq!(browser.password_posts(), 0);

    // A pasted response to some other request is refused, without echoing what was pasted.
    let forged = "io.curity.dcrclient:/callback?code=pasted-code-8f3kq0z&state=not-ours";
    let run = dcr(config, &["register"], &browser, Answer::Paste(forged)).await;
    let (kind, message) = run.error();
    assert_eq!(kind, "stateMismatch", "{message}");
    assert!(
        !run.everything().contains("pasted-code-8f3kq0z"),
        "{message}"
    );
    assert!(idp.admin_list_clients().await.is_empty());
}

/// A config that cannot be read is `error[config]: …` on one line (exit 1), before anything
/// else happens; an unknown command is a usage error (exit 2). No keychain needed.
#[tokio::test]
async fn cli_reports_config_and_usage_errors() {
    let browser = ScriptedBrowser::new();
    let missing = Path::new("/nonexistent/dcr-config.json");
    let run = dcr(missing, &["status"], &browser, Answer::Browse).await;
    let (kind, message) = run.error();
    assert_eq!(kind, "config", "{message}");
    let run = dcr(missing, &["fly"], &browser, Answer::Browse).await;
    assert_eq!(run.code, Some(2), "{:?}", run.stderr);
    assert!(
        run.stderr[0].starts_with("error[usage]: "),
        "{:?}",
        run.stderr
    );
}

/// Two real `dcr register` processes on one keychain entry. Both finish their
/// registration login first (the test holds back both redirects, then hands them over at the
/// same moment), so both race into the registration request. The cross-process lock and the
/// re-read under it let exactly one register; the other adopts that registration. Without them
/// each process would register its own client and one would be left orphaned on the server.
#[tokio::test]
async fn cli_two_processes_registering_at_once_create_one_client() {
    require_test_keyring("cli_two_processes_registering_at_once_create_one_client");
    let setup = Setup::new(Form::Full).await;
    let (idp, config) = (&setup.idp, &setup.config);
    let browser = ScriptedBrowser::new();

    let mut processes = Vec::new();
    for _ in 0..2 {
        let mut child = spawn(config, &["register"]);
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let line = tokio::time::timeout(std::time::Duration::from_secs(30), lines.next_line())
            .await
            .expect("an open: line within 30 s")
            .unwrap()
            .expect("an open: line");
        let url = Url::parse(line.strip_prefix("open: ").expect("open: <url>")).unwrap();
        let back = browser
            .open(url, Some(DEMO_USER))
            .await
            .expect("the login finishes");
        processes.push((child, lines, back));
    }
    // Both logins are done; now both processes get their redirect at once.
    let mut stdins = Vec::new();
    for (child, _, back) in &mut processes {
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(format!("{back}\n").as_bytes())
            .await
            .unwrap();
        stdins.push(stdin);
    }
    for stdin in &mut stdins {
        stdin.flush().await.unwrap();
    }
    let mut client_ids = Vec::new();
    for (mut child, mut lines, _) in processes {
        let status = tokio::time::timeout(std::time::Duration::from_secs(60), child.wait())
            .await
            .expect("dcr finished within a minute")
            .unwrap();
        let mut errors = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            errors.push(line);
        }
        assert!(status.success(), "dcr register failed: {errors:?}");
        let mut out = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .await
            .unwrap();
        let out: Value = serde_json::from_str(out.trim()).expect("one JSON line");
        client_ids.push(out["client_id"].as_str().expect("client_id").to_owned());
    }
    assert_eq!(
        client_ids[0], client_ids[1],
        "both use the same registration"
    );
    let clients = idp.admin_list_clients().await;
    assert_eq!(
        clients.len(),
        1,
        "exactly one client on the server, none orphaned"
    );
    assert_eq!(clients[0].client_id, client_ids[0]);
    let status = dcr(config, &["status"], &browser, Answer::Browse).await;
    assert_eq!(status.json()["client_id"], client_ids[0].as_str());
}

/// `rememberSignIn: true` in the CLI. The first `login` uses the browser and remembers
/// the refresh token in the keychain entry; the next one signs in with it (no browser step,
/// `"remembered": true`); `--logout` removes it, so the login after that uses the browser again.
#[tokio::test]
async fn cli_login_with_remember_sign_in_needs_no_browser_the_second_time() {
    require_test_keyring("cli_login_with_remember_sign_in_needs_no_browser_the_second_time");
    let setup = Setup::new(Form::Full).await;
    let mut json = engine::config_json(&setup.idp, Form::Full);
    json["rememberSignIn"] = true.into();
    std::fs::write(&setup.config, json.to_string()).unwrap();
    let config = &setup.config;
    let browser = ScriptedBrowser::new();

    let run = dcr(config, &["register"], &browser, Answer::Browse).await;
    assert_eq!(run.code, Some(0), "{}", run.everything());
    let run = dcr(config, &["login"], &browser, Answer::Browse).await;
    assert_eq!(run.code, Some(0), "{}", run.everything());
    assert_eq!(run.opened.len(), 1);
    assert!(run.json().get("remembered").is_none());

    let run = dcr(config, &["login", "--refresh"], &browser, Answer::Browse).await;
    assert_eq!(run.code, Some(0), "{}", run.everything());
    assert!(run.opened.is_empty(), "no browser step: {:?}", run.opened);
    assert_eq!(run.json()["remembered"], true);
    assert_eq!(run.json()["sub"], "demouser");

    let run = dcr(config, &["login", "--logout"], &browser, Answer::Browse).await;
    assert_eq!(run.code, Some(0), "{}", run.everything());
    assert_eq!(run.opened.len(), 1, "only the logout page");
    let stored = KeychainStore::new()
        .load(&engine::store_key(&setup.idp, Form::Full))
        .unwrap()
        .unwrap();
    assert!(stored.refresh_token.is_none(), "logout removed it");
    let run = dcr(config, &["login"], &browser, Answer::Browse).await;
    assert_eq!(run.code, Some(0), "{}", run.everything());
    assert_eq!(run.opened.len(), 1, "the browser again");
    let run = dcr(config, &["forget"], &browser, Answer::Browse).await;
    assert_eq!(run.code, Some(0), "{}", run.everything());
}

/// `dcr status` with a device key (private_key_jwt, the key in the keychain): who holds it, in
/// the engine's words, the sentence the app's Home and About show; never the key itself.
#[tokio::test]
async fn cli_status_names_who_holds_the_device_key_and_never_the_key() {
    require_test_keyring("cli_status_names_who_holds_the_device_key_and_never_the_key");
    let setup = Setup::new(Form::Full).await;
    let mut json = engine::config_json(&setup.idp, Form::Full);
    json["tokenEndpointAuthMethod"] = "private_key_jwt".into();
    json["deviceKeyStorage"] = "software".into();
    std::fs::write(&setup.config, json.to_string()).unwrap();
    let config = &setup.config;
    let browser = ScriptedBrowser::new();

    let run = dcr(config, &["register"], &browser, Answer::Browse).await;
    assert_eq!(run.code, Some(0), "{}", run.everything());
    let run = dcr(config, &["status"], &browser, Answer::Browse).await;
    let out = run.json();
    assert_eq!(out["registered"], true);
    assert_eq!(out["device_key_holder"], "software");
    assert_eq!(
        out["device_key"],
        dcr_core::device::signer::KeyHolder::Software.describe()
    );
    assert_eq!(out["device_key"], "Device key stored in the keychain");
    // The entry's key (its PKCS#8) is not in what status printed.
    let stored = KeychainStore::new()
        .load(&engine::store_key(&setup.idp, Form::Full))
        .expect("the keychain answers")
        .expect("the registration is stored");
    let key = stored.device_key.expect("a device key").stored_form();
    let pkcs8: Value = serde_json::from_str(key.expose()).unwrap();
    let pkcs8 = pkcs8.as_str().expect("a software key's PKCS#8");
    assert!(!run.everything().contains(pkcs8));

    let run = dcr(config, &["forget"], &browser, Answer::Browse).await;
    assert_eq!(run.json()["server_deleted"], true);
}
