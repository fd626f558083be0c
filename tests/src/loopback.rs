//! The user's browser in loopback mode (RFC 8252 §7.3), played by the test: given the
//! authorization or end-session URL, it signs in with [`ScriptedBrowser`] (which stops at the
//! Location that leaves the identity server, here `http://127.0.0.1:<port>/…`), and then
//! delivers that URL the way a real browser does: an HTTP GET to the app's listener. Before
//! the real request it sends a forged one (same URL, another `state`), which must get a 400
//! and leave the listener waiting.

use std::sync::{Arc, Mutex, PoisonError};

use url::Url;

use crate::{ScriptedBrowser, DEMO_USER};

/// What happened at one browser step.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The URL the app opened.
    pub opened: Url,
    /// The URL the identity server sent the browser to (with the listener's port).
    pub callback: Option<Url>,
    /// The listener's status for the forged (wrong-state) request.
    pub forged_status: Option<u16>,
    /// The listener's status and page for the real request.
    pub status: Option<u16>,
    pub page: Option<String>,
    /// Whether the listener's socket was bound to 127.0.0.1 only while the step ran
    /// (`/proc/net/tcp{,6}`: the operating system's view, not the app's).
    pub loopback_only: Option<bool>,
    pub error: Option<String>,
}

/// Lists every listening socket on `port` (Linux): `(local address hex, is_ipv6)`.
pub fn listening_sockets(port: u16) -> Vec<(String, bool)> {
    let mut found = Vec::new();
    for (file, v6) in [("/proc/net/tcp", false), ("/proc/net/tcp6", true)] {
        let Ok(table) = std::fs::read_to_string(file) else {
            continue;
        };
        for line in table.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state)) = (fields.get(1), fields.get(3)) else {
                continue;
            };
            let Some((address, port_hex)) = local.rsplit_once(':') else {
                continue;
            };
            // 0A is TCP_LISTEN.
            if *state == "0A" && u16::from_str_radix(port_hex, 16).ok() == Some(port) {
                found.push((address.to_owned(), v6));
            }
        }
    }
    found
}

/// 127.0.0.1 as /proc/net/tcp writes it (little-endian hex), and ::1 as tcp6 does.
const IPV4_LOOPBACK: &str = "0100007F";
const IPV6_LOOPBACK: &str = "00000000000000000000000001000000";

/// The app's browser, as a [`dcr_core::agents::BrowserOpener`].
pub struct LoopbackBrowser {
    pub browser: Arc<ScriptedBrowser>,
    deliveries: Arc<Mutex<Vec<Delivery>>>,
    /// How many steps have finished (the engine may go on before the browser task is done).
    finished: tokio::sync::watch::Sender<usize>,
}

impl LoopbackBrowser {
    pub fn new(browser: Arc<ScriptedBrowser>) -> Self {
        Self {
            browser,
            deliveries: Arc::default(),
            finished: tokio::sync::watch::Sender::new(0),
        }
    }

    /// Waits until `count` steps have finished, then returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<Delivery> {
        let mut finished = self.finished.subscribe();
        let waited = tokio::time::timeout(
            std::time::Duration::from_secs(30),
            finished.wait_for(|done| *done >= count),
        )
        .await;
        assert!(
            waited.is_ok(),
            "the browser finished fewer than {count} steps"
        );
        self.deliveries()
    }

    /// Every step so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Plays one step: sign in, forge, deliver. Runs on its own task, like a browser process.
    pub async fn play(browser: Arc<ScriptedBrowser>, opened: Url) -> Delivery {
        let mut delivery = Delivery {
            opened: opened.clone(),
            callback: None,
            forged_status: None,
            status: None,
            page: None,
            loopback_only: None,
            error: None,
        };
        let redirect = opened
            .query_pairs()
            .find(|(name, _)| name == "redirect_uri" || name == "post_logout_redirect_uri")
            .and_then(|(_, value)| Url::parse(&value).ok());
        if let Some(port) = redirect.as_ref().and_then(Url::port) {
            let sockets = listening_sockets(port);
            delivery.loopback_only = Some(
                !sockets.is_empty()
                    && sockets.iter().all(|(address, v6)| {
                        address == if *v6 { IPV6_LOOPBACK } else { IPV4_LOOPBACK }
                    }),
            );
        }
        let (user, password) = DEMO_USER;
        let callback = match browser.open(opened, Some((user, password))).await {
            Ok(callback) => callback,
            Err(error) => {
                delivery.error = Some(error.to_string());
                return delivery;
            }
        };
        delivery.callback = Some(callback.clone());
        let client = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        match client.get(forged_state(&callback)).send().await {
            Ok(response) => delivery.forged_status = Some(response.status().as_u16()),
            Err(error) => delivery.error = Some(format!("forged request: {error}")),
        }
        match client.get(callback).send().await {
            Ok(response) => {
                delivery.status = Some(response.status().as_u16());
                delivery.page = response.text().await.ok();
            }
            Err(error) => delivery.error = Some(format!("callback request: {error}")),
        }
        delivery
    }
}

impl dcr_core::agents::BrowserOpener for LoopbackBrowser {
    fn open(&self, url: &Url) -> Result<(), String> {
        let (browser, deliveries, url) =
            (self.browser.clone(), self.deliveries.clone(), url.clone());
        let finished = self.finished.clone();
        tokio::runtime::Handle::current().spawn(async move {
            let delivery = LoopbackBrowser::play(browser, url).await;
            deliveries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(delivery);
            finished.send_modify(|done| *done += 1);
        });
        Ok(())
    }
}

/// The same callback URL with another `state`: what an attacker who cannot know the request's
/// `state` would send (RFC 6749 §10.12); the app must ignore it.
pub fn forged_state(link: &Url) -> Url {
    let mut forged = link.clone();
    let pairs: Vec<(String, String)> = link
        .query_pairs()
        .map(|(name, value)| {
            let value = if name == "state" {
                "forged-state".to_owned()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    forged.query_pairs_mut().clear().extend_pairs(pairs);
    forged
}
