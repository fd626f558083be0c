//! Starts the bundled identity server (`tests/idp/server.mjs`) on an ephemeral port and talks to
//! its test-only admin API.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

use crate::tls::{ServerFiles, TestCa};

/// How long the server may take to print its `ready` line before the test gives up. This only
/// guards against a hang: the condition waited for is the line itself (or the process exiting,
/// which ends the wait at once). A start took 0.3–0.9 s on a 2-core machine at load 2 and 1.5–4.4 s with
/// eight busy processes and a disk writer beside it; it is CPU-bound (loading oidc-provider's
/// modules, then an RSA-2048 key whose prime search has a long tail), so under the load of a
/// first `make test` it stretched past the 30 s this once was; 60 s is 13 times the slowest start
/// measured. Twice on 2026-12-07 a server printed nothing for 120 s after loading its modules: a
/// hang, which [`ATTEMPTS`] handles. See docs/testing.md.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// A server that printed nothing within [`READY_TIMEOUT`] is a hang, not a slow start (the slowest
/// start measured is 13 times shorter): it is asked for Node's diagnostic report (its JavaScript
/// and native stacks, the handles its event loop waits on), killed, and started again, this many
/// times in all. Two hangs in a row fail the test with both reports' summaries.
const ATTEMPTS: usize = 2;
/// How long a hung server gets to write its diagnostic report.
const REPORT_WITHIN: Duration = Duration::from_secs(5);
/// A start slower than this is reported on stderr with the server's own timings, so a slow
/// machine shows up in the log long before it could time out.
const SLOW_START: Duration = Duration::from_secs(5);
/// How many of the server's stderr lines are kept for failure messages.
const LOG_LINES: usize = 200;

/// Lifetimes in seconds; `None` keeps the server's default (see `tests/idp/README.md`).
/// `Some(0)` means "never expires".
#[derive(Debug, Clone, Copy, Default)]
pub struct IdpOptions {
    /// `IDP_DCR_TOKEN_TTL`: access tokens with the `dcr` scope (default 300).
    pub dcr_token_ttl: Option<u64>,
    /// `IDP_ACCESS_TOKEN_TTL`: other access tokens and ID tokens (default 300).
    pub access_token_ttl: Option<u64>,
    /// `IDP_REFRESH_TOKEN_TTL`: refresh tokens (default 86400).
    pub refresh_token_ttl: Option<u64>,
    /// `IDP_CLIENT_SECRET_TTL`: dynamic clients' secrets (default 0, `client_secret_expires_at` 0).
    pub client_secret_ttl: Option<u64>,
    /// `IDP_PROFILE`: `None` is `curity`; `Some("device-bound")` requires private_key_jwt and DPoP.
    pub profile: Option<&'static str>,
    /// `IDP_DPOP_NONCE=1`: DPoP proofs must carry a server nonce.
    pub dpop_nonce: bool,
    /// `IDP_ID_TOKEN_CLAIMS=minimal`: ID tokens carry only `sub` and `preferred_username`; the
    /// other profile claims come from UserInfo.
    pub minimal_id_token: bool,
    /// `IDP_REQUEST_LOG=1`: the server logs every request's method and path, for
    /// [`Idp::admin_requests`] (counting back-channel requests from the server's side).
    pub request_log: bool,
    /// `IDP_ROTATE_REGISTRATION_TOKEN=1`: every RFC 7592 read answers with a new registration
    /// access token and invalidates the old one, as Keycloak does (RFC 7592 §3). Updates rotate
    /// it either way.
    pub rotate_registration_token: bool,
}

impl IdpOptions {
    /// The `device-bound` profile: dynamic clients must use private_key_jwt and DPoP-bound
    /// tokens; with `dpop_nonce` every DPoP proof must carry a server nonce (RFC 9449 §8).
    pub fn device_bound(dpop_nonce: bool) -> IdpOptions {
        IdpOptions {
            profile: Some("device-bound"),
            dpop_nonce,
            ..IdpOptions::default()
        }
    }
}

/// One request the server received under its issuer, as listed by `GET /admin/requests`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// Relative to the issuer path, without the query string, e.g. `/token` or `/reg/<id>`.
    pub path: String,
    /// False for the browser's requests (authorization endpoint, login pages, logout page).
    pub back_channel: bool,
}

/// A dynamic client as listed by `GET /admin/clients` (never includes secrets).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct AdminClient {
    pub client_id: String,
    pub client_id_issued_at: u64,
    pub created_at: String,
    pub software_id: Option<String>,
    #[serde(default)]
    pub grant_types: Vec<String>,
    pub scope: Option<String>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
}

/// One secret value the server handed out, as listed by `GET /admin/issued-secrets`.
/// `Debug` shows the kind and length only, so a failing assertion never prints the value.
#[derive(Clone, Deserialize, PartialEq, Eq)]
pub struct IssuedSecret {
    /// `client_secret`, `registration_access_token`, `code`, `access_token`, `refresh_token`
    /// or `id_token`.
    pub kind: String,
    pub value: String,
}

impl std::fmt::Debug for IssuedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({} chars)", self.kind, self.value.len())
    }
}

/// A running identity server. It is killed when this value is dropped.
pub struct Idp {
    /// `http://127.0.0.1:<port>/oauth/v2/oauth-anonymous` (`https://` from [`Idp::start_tls`])
    pub issuer: Url,
    /// Bearer token for the admin API (random per server).
    pub admin_token: String,
    pub(crate) child: Child,
    pub(crate) logs: Arc<Mutex<Vec<String>>>,
    pub(crate) http: reqwest::Client,
    pub(crate) options: IdpOptions,
    /// `IDP_STORE`: where a persistent server keeps its state (see `crate::faults`).
    pub(crate) store_dir: Option<PathBuf>,
    /// `IDP_TLS_CERT`, `IDP_TLS_KEY`: the server's certificate and key ([`Idp::start_tls`]).
    pub(crate) tls: Option<ServerFiles>,
}

/// The repository root (the parent of the `tests` crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

impl Idp {
    /// Starts a server with default lifetimes.
    pub async fn start() -> Idp {
        Idp::start_with(IdpOptions::default()).await
    }

    /// Starts a server with the given lifetimes. Panics, saying what to do, when Node or the
    /// server's packages are missing or the server does not become ready within two minutes.
    pub async fn start_with(options: IdpOptions) -> Idp {
        Idp::launch(options, None, None).await
    }

    /// Starts a server that serves https only, on `https://127.0.0.1:<port>`, with a certificate
    /// for `127.0.0.1` signed by `ca`. Its clients must trust `ca` to reach it: the admin API
    /// client here does (it adds the CA as a root); the engine and the scripted browser do when
    /// `SSL_CERT_FILE` names [`TestCa::ca_file`] as they are built.
    pub async fn start_tls(options: IdpOptions, ca: &TestCa) -> Idp {
        Idp::launch(options, None, Some(ServerFiles::new(ca, &["127.0.0.1"]))).await
    }

    /// Spawns the server with a fresh admin token, `IDP_STORE=store_dir` when given, and TLS
    /// with `tls` when given.
    pub(crate) async fn launch(
        options: IdpOptions,
        store_dir: Option<PathBuf>,
        tls: Option<ServerFiles>,
    ) -> Idp {
        let admin_token = crate::random_token(24);
        let (child, logs, issuer) =
            spawn(options, &admin_token, 0, store_dir.as_deref(), tls.as_ref()).await;
        Idp {
            issuer,
            admin_token,
            child,
            logs,
            http: admin_client(tls.as_ref().map(|files| files.ca_pem.as_str())),
            options,
            store_dir,
            tls,
        }
    }

    /// `<issuer>/<path>`, e.g. `idp.endpoint(".well-known/openid-configuration")`.
    pub fn endpoint(&self, path: &str) -> Url {
        let mut base = self.issuer.clone();
        base.set_path(&format!("{}/", self.issuer.path().trim_end_matches('/')));
        base.join(path).expect("a valid relative path")
    }

    /// The server's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The server's recent stderr lines (it never logs secrets).
    pub fn logs(&self) -> Vec<String> {
        snapshot(&self.logs)
    }

    /// An admin API request, authorized with the admin token.
    pub(crate) async fn admin(&self, method: Method, url: Url) -> reqwest::Response {
        self.http
            .request(method, url)
            .bearer_auth(&self.admin_token)
            .send()
            .await
            .expect("admin API request failed")
    }

    fn admin_url(&self, path: &str) -> Url {
        self.issuer.join(path).expect("a valid admin path")
    }

    /// An admin API request to `path` that must answer 200 with JSON; `hint` follows the request
    /// line in a failure.
    async fn admin_json<T: DeserializeOwned>(&self, method: Method, path: &str, hint: &str) -> T {
        let what = format!("{method} {path}{hint}");
        let response = self.admin(method, self.admin_url(path)).await;
        assert_eq!(response.status(), 200, "{what}");
        response
            .json()
            .await
            .unwrap_or_else(|error| panic!("{what}: the answer is not JSON: {error}"))
    }

    /// `GET /admin/clients`: the dynamically registered clients, oldest first.
    pub async fn admin_list_clients(&self) -> Vec<AdminClient> {
        self.admin_json(Method::GET, "/admin/clients", "").await
    }

    /// The one dynamic client registered so far ([`Idp::admin_list_clients`]); fails the test
    /// when there is none or more than one.
    pub async fn admin_the_only_client(&self) -> AdminClient {
        let mut clients = self.admin_list_clients().await;
        assert_eq!(clients.len(), 1, "exactly one dynamic client is registered");
        clients.remove(0)
    }

    /// `GET /admin/issued-secrets`: every secret value the server issued so far (client
    /// secrets, registration access tokens, authorization codes, access, refresh and ID
    /// tokens), oldest first. The ground truth for the "no secret leaks" tests.
    pub async fn admin_issued_secrets(&self) -> Vec<String> {
        self.admin_issued_secrets_by_kind()
            .await
            .into_iter()
            .map(|secret| secret.value)
            .collect()
    }

    /// Like [`admin_issued_secrets`](Self::admin_issued_secrets), with each value's kind.
    pub async fn admin_issued_secrets_by_kind(&self) -> Vec<IssuedSecret> {
        self.admin_json(Method::GET, "/admin/issued-secrets", "")
            .await
    }

    /// `POST /admin/rotate-signing-key`: ID tokens are signed with a new key from now on, and
    /// the old keys stay published. Returns the new key's `kid`.
    pub async fn admin_rotate_signing_key(&self) -> String {
        let body: serde_json::Value = self
            .admin_json(Method::POST, "/admin/rotate-signing-key", "")
            .await;
        body["kid"].as_str().expect("a kid").to_owned()
    }

    /// `GET /admin/requests`: every request under the issuer so far, in arrival order. Needs
    /// [`IdpOptions::request_log`].
    pub async fn admin_requests(&self) -> Vec<LoggedRequest> {
        self.admin_json(
            Method::GET,
            "/admin/requests",
            " (is IdpOptions::request_log set?)",
        )
        .await
    }

    /// `DELETE /admin/requests`: empties the request log.
    pub async fn admin_clear_requests(&self) {
        let response = self
            .admin(Method::DELETE, self.admin_url("/admin/requests"))
            .await;
        assert_eq!(response.status(), 204, "DELETE /admin/requests");
    }

    /// An administrator deletes the one dynamic client registered so far (as
    /// [`Idp::admin_delete_client`]), and it is gone.
    pub async fn admin_delete_the_only_client(&self) {
        let client = self.admin_the_only_client().await;
        assert!(self.admin_delete_client(&client.client_id).await);
    }

    /// `DELETE /admin/clients/<id>`: deletes a dynamic client and revokes its grants, tokens and
    /// sessions. Returns false when no such dynamic client exists.
    pub async fn admin_delete_client(&self, client_id: &str) -> bool {
        let mut url = self.admin_url("/admin/clients/");
        url.path_segments_mut()
            .expect("http URL")
            .pop_if_empty()
            .push(client_id);
        let response = self.admin(Method::DELETE, url).await;
        match response.status().as_u16() {
            204 => true,
            404 => false,
            status => panic!("DELETE /admin/clients/<id> answered {status}"),
        }
    }
}

async fn keep_logs(stderr: tokio::process::ChildStderr, logs: Arc<Mutex<Vec<String>>>) {
    let echo = std::env::var_os("IDP_LOG").is_some();
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if echo {
            eprintln!("{line}");
        }
        let mut logs = logs.lock().unwrap_or_else(PoisonError::into_inner);
        if logs.len() == LOG_LINES {
            logs.remove(0);
        }
        logs.push(line);
    }
}

fn snapshot(logs: &Mutex<Vec<String>>) -> Vec<String> {
    logs.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Starts `node tests/idp/server.mjs` on `port` (0: a free one), with `IDP_STORE=store_dir` and
/// TLS with `tls` when given, and waits for its `ready` line.
pub(crate) async fn spawn(
    options: IdpOptions,
    admin_token: &str,
    port: u16,
    store_dir: Option<&std::path::Path>,
    tls: Option<&ServerFiles>,
) -> (Child, Arc<Mutex<Vec<String>>>, Url) {
    let mut hangs = Vec::new();
    for _ in 0..ATTEMPTS {
        match attempt(options, admin_token, port, store_dir, tls).await {
            Ok(started) => return started,
            Err(hang) => {
                eprintln!("the identity server hung at start; starting it again. {hang}");
                hangs.push(hang);
            }
        }
    }
    panic!(
        "the identity server hung at start {ATTEMPTS} times:\n{}",
        hangs.join("\n\n")
    );
}

/// One start of the server: its process, its log and its issuer once it printed `ready`, or, if
/// it printed nothing within [`READY_TIMEOUT`], what it was doing (and it is killed).
async fn attempt(
    options: IdpOptions,
    admin_token: &str,
    port: u16,
    store_dir: Option<&std::path::Path>,
    tls: Option<&ServerFiles>,
) -> Result<(Child, Arc<Mutex<Vec<String>>>, Url), String> {
    let reports = report_folder();
    let idp_dir = repo_root().join("tests/idp");
    assert!(
        idp_dir.join("node_modules/oidc-provider").is_dir(),
        "the identity server's packages are not installed: run `npm ci --prefix tests/idp` \
         in {}",
        repo_root().display()
    );
    let mut command = Command::new("node");
    command
        // Node writes a diagnostic report on SIGUSR2: how a hung start is told apart.
        .arg("--report-on-signal")
        .arg("--report-compact")
        .arg(format!("--report-directory={}", reports.display()))
        .arg(idp_dir.join("server.mjs"))
        .env("IDP_PORT", port.to_string())
        .env("IDP_ADMIN_TOKEN", admin_token)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let settings = [
        ("IDP_DCR_TOKEN_TTL", options.dcr_token_ttl),
        ("IDP_ACCESS_TOKEN_TTL", options.access_token_ttl),
        ("IDP_REFRESH_TOKEN_TTL", options.refresh_token_ttl),
        ("IDP_CLIENT_SECRET_TTL", options.client_secret_ttl),
    ];
    for (name, value) in settings {
        match value {
            Some(seconds) => command.env(name, seconds.to_string()),
            None => command.env_remove(name),
        };
    }
    match options.profile {
        Some(profile) => command.env("IDP_PROFILE", profile),
        None => command.env_remove("IDP_PROFILE"),
    };
    command.env("IDP_DPOP_NONCE", if options.dpop_nonce { "1" } else { "0" });
    command.env(
        "IDP_ID_TOKEN_CLAIMS",
        if options.minimal_id_token {
            "minimal"
        } else {
            "full"
        },
    );
    let flags = [
        ("IDP_REQUEST_LOG", options.request_log),
        (
            "IDP_ROTATE_REGISTRATION_TOKEN",
            options.rotate_registration_token,
        ),
    ];
    for (name, on) in flags {
        command.env(name, if on { "1" } else { "0" });
    }
    match store_dir {
        Some(dir) => command.env("IDP_STORE", dir),
        None => command.env_remove("IDP_STORE"),
    };
    match tls {
        Some(files) => command
            .env("IDP_TLS_CERT", files.cert())
            .env("IDP_TLS_KEY", files.key()),
        None => command.env_remove("IDP_TLS_CERT").env_remove("IDP_TLS_KEY"),
    };
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `node` (Node.js 20 or later is required): {e}"));

    let logs = Arc::new(Mutex::new(Vec::new()));
    let stderr = child.stderr.take().expect("stderr is piped");
    tokio::spawn(keep_logs(stderr, logs.clone()));

    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let started = std::time::Instant::now();
    let ready = tokio::time::timeout(READY_TIMEOUT, lines.next_line()).await;
    if started.elapsed() > SLOW_START {
        // The server logs its `started in` line just before `ready`.
        let timings = snapshot(&logs)
            .into_iter()
            .filter(|line| line.contains("started in"))
            .collect::<Vec<_>>();
        eprintln!(
            "the identity server took {:.1} s to start ({})",
            started.elapsed().as_secs_f64(),
            timings.join("; ")
        );
    }
    let issuer = match ready {
        Ok(Ok(Some(line))) if line.starts_with("ready ") => {
            Url::parse(line["ready ".len()..].trim()).expect("the ready line holds a URL")
        }
        Err(_) => {
            let report = hang_report(&mut child, &reports).await;
            let _ = child.kill().await;
            let _ = std::fs::remove_dir_all(&reports);
            return Err(format!(
                "No `ready` line within {READY_TIMEOUT:?}. {report}\nIts log:\n{}",
                snapshot(&logs).join("\n")
            ));
        }
        other => {
            // Give the stderr reader a moment to collect the reason.
            tokio::time::sleep(Duration::from_millis(200)).await;
            let _ = child.start_kill();
            panic!(
                "the identity server did not become ready ({}). If its packages are missing, \
                 run `npm ci --prefix tests/idp`. Its log:\n{}",
                match other {
                    Ok(Ok(Some(line))) => format!("unexpected first line {line:?}"),
                    Ok(Ok(None)) => "it exited".to_string(),
                    Ok(Err(e)) => format!("reading its output failed: {e}"),
                    Err(_) => unreachable!("a hang is handled above"),
                },
                snapshot(&logs).join("\n")
            );
        }
    };
    let _ = std::fs::remove_dir_all(&reports);
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });

    Ok((child, logs, issuer))
}

/// An empty folder of its own for one server's diagnostic report.
fn report_folder() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("dcr-idp-report-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a folder for the server's diagnostic report");
    dir
}

/// What a hung server is doing: its kernel state and wait channel, and the stacks of Node's
/// diagnostic report (asked for with SIGUSR2, `--report-on-signal`), when it writes one.
async fn hang_report(child: &mut Child, reports: &std::path::Path) -> String {
    let Some(pid) = child.id() else {
        return "It had exited.".to_owned();
    };
    let proc_file =
        |name: &str| std::fs::read_to_string(format!("/proc/{pid}/{name}")).unwrap_or_default();
    let state = proc_file("status")
        .lines()
        .find(|line| line.starts_with("State:"))
        .unwrap_or("State: unknown")
        .to_owned();
    let wchan = proc_file("wchan");
    // SAFETY: kill(2) with a pid this test spawned and has not reaped.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGUSR2) };
    let deadline = std::time::Instant::now() + REPORT_WITHIN;
    let report = loop {
        let written = std::fs::read_dir(reports)
            .ok()
            .and_then(|mut entries| entries.next())
            .and_then(|entry| std::fs::read_to_string(entry.ok()?.path()).ok())
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok());
        if written.is_some() || std::time::Instant::now() > deadline {
            break written;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let stacks = match report {
        Some(report) => format!(
            "JavaScript stack: {}\nnative stack: {}\nevent-loop handles: {}",
            report["javascriptStack"],
            report["nativeStack"]
                .as_array()
                .map(|frames| frames
                    .iter()
                    .take(25)
                    .map(|f| f["symbol"].to_string())
                    .collect::<Vec<_>>()
                    .join(" < "))
                .unwrap_or_default(),
            report["libuv"]
                .as_array()
                .map(|handles| handles
                    .iter()
                    .map(|h| format!(
                        "{}{}",
                        h["type"],
                        if h["is_active"] == true {
                            "(active)"
                        } else {
                            ""
                        }
                    ))
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default(),
        ),
        None => format!("It wrote no diagnostic report within {REPORT_WITHIN:?}."),
    };
    format!("Process {pid}: {state}, waiting in {wchan:?}.\n{stacks}")
}

/// The admin API's client; `ca_pem`: the CA of a TLS server, trusted as a root.
pub(crate) fn admin_client(ca_pem: Option<&str>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    if let Some(pem) = ca_pem {
        let ca = reqwest::Certificate::from_pem(pem.as_bytes()).expect("the test CA's PEM");
        builder = builder.add_root_certificate(ca);
    }
    builder.build().expect("reqwest client")
}
