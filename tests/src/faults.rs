//! Fault injection against the real identity server (docs/faults.md): a server that keeps its
//! state in a folder (`IDP_STORE`) so it can be killed and started again on the same port, and
//! faults armed through its admin API that kill it (SIGKILL) or stall it at the Nth request to
//! one path, either before it processes the request or after it has processed it and before the
//! answer leaves (`tests/idp/lib/faults.mjs`).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::idp::spawn;
use crate::{Idp, IdpOptions};

/// How long a killed server may take to exit, and a stalled request to show in the log.
const FAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// What the server does at the chosen request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// SIGKILL on arrival: the request is never processed.
    KillBefore,
    /// The request is processed (its effects are on disk), then SIGKILL instead of the answer.
    KillAfter,
    /// Never processed, never answered: the client waits until it is killed.
    HangBefore,
    /// Processed, never answered.
    HangAfter,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::KillBefore => "kill-before",
            Action::KillAfter => "kill-after",
            Action::HangBefore => "hang-before",
            Action::HangAfter => "hang-after",
        }
    }

    /// Whether the server processed the request before the fault.
    pub fn processed(self) -> bool {
        matches!(self, Action::KillAfter | Action::HangAfter)
    }
}

/// One injected fault: `action` at the `nth` request (counted from arming) whose method is
/// `method` and whose path ends with `path` (`/token`, `/reg`, `/jwks`, …).
#[derive(Debug, Clone, Copy)]
pub struct Fault {
    pub method: &'static str,
    pub path: &'static str,
    pub nth: u32,
    pub action: Action,
}

impl Fault {
    pub const fn new(method: &'static str, path: &'static str, nth: u32, action: Action) -> Self {
        Fault {
            method,
            path,
            nth,
            action,
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} at {} …{} #{}",
            self.action.as_str(),
            self.method,
            self.path,
            self.nth
        )
    }
}

impl Idp {
    /// A server whose clients, grants, sessions, tokens and keys survive [`Idp::restart`]: it
    /// writes them to a fresh folder (`IDP_STORE`) before answering each request.
    pub async fn start_persistent(options: IdpOptions) -> Idp {
        let dir = std::env::temp_dir().join(format!(
            "dcr-idp-store-{}-{}",
            std::process::id(),
            crate::random_token(8)
        ));
        Idp::launch(options, Some(dir), None).await
    }

    /// Arms `fault` (`POST /admin/faults`). Each fault fires once.
    pub async fn arm(&self, fault: Fault) {
        let mut url = self.issuer.join("/admin/faults").expect("admin URL");
        url.query_pairs_mut()
            .append_pair("method", fault.method)
            .append_pair("path", fault.path)
            .append_pair("nth", &fault.nth.to_string())
            .append_pair("action", fault.action.as_str());
        let response = self.admin(reqwest::Method::POST, url).await;
        assert_eq!(response.status(), 204, "POST /admin/faults {fault}");
    }

    /// Waits until the server has exited (a fired kill fault), and says how.
    pub async fn wait_killed(&mut self) {
        let status = tokio::time::timeout(FAULT_TIMEOUT, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "the server is still running: the fault did not fire. Its log:\n{}",
                    self.logs().join("\n")
                )
            })
            .expect("waiting for the server");
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9), "killed by SIGKILL");
        }
        let _ = status;
    }

    /// Whether the server process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILLs the server now (from outside).
    pub async fn kill(&mut self) {
        self.child.kill().await.expect("killing the server");
    }

    /// Starts the server again over the same folder and on the same port, so the issuer, its
    /// clients, grants, SSO sessions, tokens and keys are what they were when it died.
    pub async fn restart(&mut self) {
        let dir = self
            .store_dir
            .clone()
            .expect("restart needs a server from Idp::start_persistent");
        if self.running() {
            self.kill().await;
        }
        let port = self.issuer.port().expect("the issuer has a port");
        let (child, logs, issuer) = spawn(
            self.options,
            &self.admin_token,
            port,
            Some(&dir),
            self.tls.as_ref(),
        )
        .await;
        assert_eq!(issuer, self.issuer, "same issuer after the restart");
        self.child = child;
        self.logs = logs;
    }

    /// Waits until a server log line contains `needle` (a stalled request shows as
    /// `fault: holding …`).
    pub async fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + FAULT_TIMEOUT;
        while !self.logs().iter().any(|line| line.contains(needle)) {
            assert!(
                Instant::now() < deadline,
                "no server log line with {needle:?} within {FAULT_TIMEOUT:?}:\n{}",
                self.logs().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The folder of a persistent server.
    pub fn store_dir(&self) -> Option<&PathBuf> {
        self.store_dir.as_ref()
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        if let Some(dir) = &self.store_dir {
            let _ = self.child.start_kill();
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The ids of the clients the server has, in the order it made them: after a fault, the orphan
/// it may have left and the client registered since.
pub async fn client_ids(idp: &Idp) -> Vec<String> {
    idp.admin_list_clients()
        .await
        .into_iter()
        .map(|c| c.client_id)
        .collect()
}
