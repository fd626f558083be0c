//! The `dcr` CLI as a black box, through its manual-mode protocol, against the real identity
//! server and the real keychain: register, `login --refresh --logout`, status, forget.
//!
//! Manual mode: for each browser step the CLI writes one line `open: <url>` on stderr and reads
//! the URL the browser ended on from stdin. The scripted login plays the browser.

mod engine_support;

use std::path::PathBuf;
use std::process::Stdio;

use dcr_tests::{Idp, ScriptedBrowser, DEMO_USER};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use url::Url;

/// `DCR_CLI_BINARY` (scripts/test.sh), else the debug build in the target directory.
fn cli_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("DCR_CLI_BINARY") {
        return Some(PathBuf::from(path));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| dcr_tests::repo_root().join("target"));
    let path = target
        .join("debug")
        .join(if cfg!(windows) { "dcr.exe" } else { "dcr" });
    path.is_file().then_some(path)
}

struct Outcome {
    success: bool,
    stdout: Value,
    stderr: Vec<String>,
}

/// Runs `dcr` with `args`, answering every `open:` line with the scripted browser.
async fn run(
    binary: &PathBuf,
    config: &PathBuf,
    args: &[&str],
    browser: &ScriptedBrowser,
) -> Outcome {
    let mut child = Command::new(binary)
        .arg("--config")
        .arg(config)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("dcr starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut stderr = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        match line.strip_prefix("open: ") {
            Some(url) => {
                let url = Url::parse(url).expect("the open line holds a URL");
                let back = browser
                    .open(url, Some(DEMO_USER))
                    .await
                    .expect("the scripted login finishes");
                stdin
                    .write_all(format!("{back}\n").as_bytes())
                    .await
                    .unwrap();
                stdin.flush().await.unwrap();
                stderr.push("open: <url>".to_owned());
            }
            None => stderr.push(line),
        }
    }
    let mut out = String::new();
    stdout.read_to_string(&mut out).await.unwrap();
    let status = child.wait().await.unwrap();
    let stdout = if out.trim().is_empty() {
        Value::Null
    } else {
        serde_json::from_str(out.trim()).expect("stdout is JSON")
    };
    Outcome {
        success: status.success(),
        stdout,
        stderr,
    }
}

#[tokio::test]
async fn cli_register_login_refresh_logout_status_forget() {
    if !engine_support::keyring_enabled("cli_register_login_refresh_logout_status_forget") {
        return;
    }
    let Some(binary) = cli_binary() else {
        println!(
            "note: the dcr binary is not built; run `cargo build -p dcr-cli` or set DCR_CLI_BINARY"
        );
        return;
    };
    let idp = Idp::start().await;
    let dir = std::env::temp_dir().join(format!("dcr-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"issuer":"{}","registrationClientID":"mobile-dcr-client","redirectUri":"io.curity.dcrclient:/callback","postLogoutRedirectUri":"io.curity.dcrclient:/logoutcallback","scope":"openid profile"}}"#,
            idp.issuer.as_str()
        ),
    )
    .unwrap();
    let browser = ScriptedBrowser::new();

    let status = run(&binary, &config, &["status"], &browser).await;
    assert!(status.success, "{:?}", status.stderr);
    assert_eq!(status.stdout["registered"], false);

    let register = run(&binary, &config, &["register"], &browser).await;
    assert!(register.success, "{:?}", register.stderr);
    assert_eq!(
        register.stderr,
        vec!["open: <url>"],
        "exactly one line on stderr"
    );
    let client_id = register.stdout["client_id"].as_str().unwrap().to_owned();

    let login = run(
        &binary,
        &config,
        &["login", "--refresh", "--logout"],
        &browser,
    )
    .await;
    assert!(login.success, "{:?}", login.stderr);
    assert_eq!(
        login.stderr.len(),
        2,
        "sign-in and logout: two browser steps"
    );
    assert_eq!(login.stdout["sub"], "demouser");
    assert_eq!(login.stdout["claims"]["name"], "Demo User");
    assert!(login.stdout["expires_in"].as_i64().unwrap() > 0);
    assert_eq!(login.stdout["refreshed"], true);
    assert_eq!(login.stdout["logged_out"], true);
    assert_eq!(browser.password_posts(), 1, "the sign-in was SSO");

    let status = run(&binary, &config, &["status"], &browser).await;
    assert_eq!(status.stdout["registered"], true);
    assert_eq!(status.stdout["client_id"], client_id.as_str());
    assert_eq!(status.stdout["issuer"], idp.issuer.as_str());
    assert_eq!(status.stdout["client_secret_expires_at"], 0);
    let text = status.stdout.to_string();
    assert!(
        !text.contains("secret\":\"") && !text.contains("token"),
        "{text}"
    );

    let forget = run(&binary, &config, &["forget"], &browser).await;
    assert!(forget.success, "{:?}", forget.stderr);
    assert_eq!(forget.stdout["server_deleted"], true);
    assert!(idp.admin_list_clients().await.is_empty());

    // An empty line is cancellation: error[cancelled] on stderr, non-zero exit.
    let mut child = Command::new(&binary)
        .arg("--config")
        .arg(&config)
        .arg("register")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"\n").await.unwrap();
    let output = child.wait_with_output().await.unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.lines().any(|l| l.starts_with("error[cancelled]: ")),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn cli_reports_config_errors_with_kind() {
    let Some(binary) = cli_binary() else {
        println!(
            "note: the dcr binary is not built; run `cargo build -p dcr-cli` or set DCR_CLI_BINARY"
        );
        return;
    };
    let output = Command::new(&binary)
        .args(["--config", "/nonexistent/dcr-config.json", "status"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("error[config]: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
    let usage = Command::new(&binary).arg("fly").output().await.unwrap();
    assert_eq!(usage.status.code(), Some(2));
}
