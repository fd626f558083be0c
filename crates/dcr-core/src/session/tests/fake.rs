//! A fake identity server (as a [`Transport`]) and a fake browser (as a [`UserAgent`]) that
//! share state, so the whole session runs in a unit test. It checks what a strict server
//! checks: single-use codes, PKCE S256, client secrets, refresh-token rotation, DCR tokens.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

use crate::agents::{BrowserPurpose, BrowserStep, UserAgent, UserAgentError};
use crate::platform::http::{CappedResponse, Method, OutgoingRequest, SendError, Transport};
use crate::test_support::{TestKey, ISSUER};

mod browser;
mod device;
mod keys;
mod registration;
mod token;
mod update;

pub(super) use browser::FakeBrowser;
pub(super) use device::DeviceState;
use keys::dropped;
pub(super) use keys::Outage;

const BASE: &str = "https://idp.example";
pub(super) const STATIC_CLIENT: &str = "mobile-dcr-client";

struct Grant {
    client_id: String,
    nonce: String,
    challenge: String,
}

#[derive(Default)]
pub(super) struct FakeState {
    grants: HashMap<String, Grant>,
    /// client_id → (secret, registration access token)
    pub clients: HashMap<String, (String, String)>,
    /// refresh token → client_id
    refresh_tokens: HashMap<String, String>,
    dcr_tokens: Vec<String>,
    counter: u32,
    pub registrations: usize,
    pub deleted: Vec<String>,
    /// RFC 7592 reads, answered or not.
    pub reads: usize,
    pub last_registration_body: Option<Value>,
    pub browser_steps: Vec<String>,
    /// What the engine said each browser step was for: purpose, user action expected, and
    /// the redirect it named.
    pub browser_purposes: Vec<(BrowserPurpose, bool, String)>,
    /// Every secret value handed out, for the no-leak assertions.
    pub issued: Vec<String>,
    // Scripted behaviour.
    pub code_error: Option<(u16, Value)>,
    pub refresh_error: Option<(u16, Value)>,
    pub registration_error: Option<(u16, Value)>,
    pub secret_expires_at: i64,
    pub no_rotation: bool,
    pub refresh_id_token: bool,
    pub no_end_session: bool,
    pub cancel_browser: bool,
    /// How many of the next RFC 7592 reads fail before reaching the server (a flaky network).
    pub read_outages: usize,
    /// Answer RFC 7592 reads with this status instead (a server having trouble).
    pub read_status: Option<u16>,
    /// Register without `registration_client_uri`: no RFC 7592 management at all.
    pub no_management: bool,
    /// Token endpoint requests, any grant.
    pub token_requests: usize,
    /// Discovery reads, and key-set requests (answered or not).
    pub discoveries: usize,
    pub jwks_fetches: usize,
    /// How the next key-set requests fail, one entry each; served normally when empty.
    pub jwks_failures: VecDeque<Outage>,
    /// Where the key set lives (discovery names it); any other key-set path answers 404.
    pub jwks_path: String,
    /// ID tokens name this `kid` instead of the signing key's: a key the server never publishes.
    pub kid_override: Option<String>,
    /// RFC 7009 revocation requests, and how they fail (answered 200 when `None`).
    pub revocations: usize,
    pub revocation_failure: Option<Outage>,
    /// Answer registration with a 201 whose body has this field replaced (`None`: removed).
    pub registration_patch: Option<(&'static str, Option<Value>)>,
    /// Answer RFC 7592 reads with this field replaced (`None`: removed).
    pub read_patch: Option<(&'static str, Option<Value>)>,
    /// Rotate the client secret / the registration access token on the next read (RFC 7592 §3).
    pub rotate_secret_on_read: bool,
    pub rotate_token_on_read: bool,
    /// Rotate the registration access token on every read, as Keycloak does (RFC 7592 §3
    /// allows it): a process holding the previous token gets 401 from then on.
    pub rotate_token_on_every_read: bool,
    /// Each client's registered redirect URIs, echoed in its registration and read answers (a
    /// loopback-mode client registers `http://127.0.0.1/…`, RFC 8252 §7.3).
    pub redirects: HashMap<String, Value>,
    /// Answer RFC 7592 deletes with this status and delete nothing (a server having trouble).
    pub delete_status: Option<u16>,
    /// Process the next RFC 7592 delete, then drop its answer (the server killed
    /// after processing it).
    pub delete_answer_lost: bool,
    /// The token endpoint answers a bare 401 (no OAuth error body), like a proxy in the way.
    pub token_bare_401: bool,
    /// Every RFC 7592 delete: (path, bearer token), answered or not.
    pub delete_requests: Vec<(String, String)>,
    /// private_key_jwt and DPoP.
    pub device: DeviceState,
    /// UserInfo requests: (Authorization scheme, answered status).
    pub userinfo_requests: Vec<(String, u16)>,
    /// RFC 7592 §2.2 updates (device key rotation).
    pub updates: update::Updates,
    /// ID tokens carry only `sub` and `preferred_username`; `name` comes from UserInfo
    /// (OIDC Core §5.4), as on some servers.
    pub profile_in_userinfo_only: bool,
    /// When set, each token request waits for a permit here (and counts in `gate_waiting`), so
    /// a test can start other calls while one is in flight.
    pub token_gate: Option<Arc<tokio::sync::Notify>>,
    pub gate_waiting: usize,
}

pub(super) struct FakeIdp {
    /// Every signing key with its `kid`, all published; the last one signs (key rotation).
    keys: Mutex<Vec<(String, TestKey)>>,
    pub state: Mutex<FakeState>,
}

fn respond(status: u16, body: Value) -> CappedResponse {
    CappedResponse {
        status,
        content_type: Some("application/json".into()),
        body: serde_json::to_vec(&body).unwrap(),
        ..Default::default()
    }
}

fn patch(body: &mut Value, patch: Option<(&'static str, Option<Value>)>) {
    let map = body.as_object_mut().unwrap();
    match patch {
        Some((field, Some(value))) => {
            map.insert(field.into(), value);
        }
        Some((field, None)) => {
            map.remove(field);
        }
        None => {}
    }
}

fn now() -> i64 {
    crate::session::now()
}

impl FakeIdp {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            keys: Mutex::new(vec![("k1".into(), TestKey::p256())]),
            state: Mutex::new(FakeState {
                jwks_path: "/jwks".into(),
                ..FakeState::default()
            }),
        })
    }

    pub(super) fn with<T>(&self, f: impl FnOnce(&mut FakeState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    fn fresh(state: &mut FakeState, prefix: &str) -> String {
        state.counter += 1;
        let value = format!(
            "{prefix}-{}-{}",
            state.counter,
            crate::protocol::authorize::random_token(9)
        );
        state.issued.push(value.clone());
        value
    }

    fn discovery(&self) -> Value {
        let mut doc = json!({
            "issuer": ISSUER,
            "authorization_endpoint": format!("{BASE}/authorize"),
            "token_endpoint": format!("{BASE}/token"),
            "jwks_uri": format!("{BASE}{}", self.with(|s| s.jwks_path.clone())),
            "revocation_endpoint": format!("{BASE}/revoke"),
            "registration_endpoint": format!("{BASE}/register"),
            "userinfo_endpoint": format!("{BASE}/userinfo"),
            "end_session_endpoint": format!("{BASE}/logout"),
            "authorization_response_iss_parameter_supported": true,
        });
        if self.with(|s| s.no_end_session) {
            doc.as_object_mut().unwrap().remove("end_session_endpoint");
        }
        doc
    }

    fn id_token(&self, state: &FakeState, client_id: &str, nonce: Option<&str>) -> String {
        let mut claims = json!({"iss": ISSUER, "sub": "demouser", "aud": client_id, "exp": now() + 300, "iat": now(), "name": "Demo User"});
        if state.profile_in_userinfo_only {
            claims["preferred_username"] = json!("demouser");
            claims.as_object_mut().unwrap().remove("name");
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        let keys = self.keys.lock().unwrap();
        let (kid, key) = keys.last().unwrap();
        key.mint(state.kid_override.as_deref().unwrap_or(kid), &claims)
    }

    /// The token endpoint refuses the refresh token: expired or revoked (RFC 6749 §5.2).
    pub(super) fn refuse_refresh_tokens(&self) {
        self.with(|s| s.refresh_error = Some((400, json!({"error": "invalid_grant"}))));
    }

    /// Simulates the admin disabling a stolen device's client.
    pub(super) fn revoke_all_clients(&self) {
        self.with(|s| s.clients.clear());
    }
}

#[async_trait::async_trait]
impl Transport for FakeIdp {
    async fn send(&self, request: OutgoingRequest) -> Result<CappedResponse, SendError> {
        assert_eq!(request.url.host_str(), Some("idp.example"));
        let path = request.url.path().to_owned();
        if request.method == Method::Get && path.starts_with("/register/") {
            let outage = self.with(|s| {
                let outage = s.read_outages > 0;
                if outage {
                    s.read_outages -= 1;
                    s.reads += 1;
                }
                outage
            });
            if outage {
                return Err(dropped());
            }
        }
        if request.method == Method::Delete
            && path.starts_with("/register/")
            && self.with(|s| std::mem::take(&mut s.delete_answer_lost))
        {
            self.manage(&request, &path["/register/".len()..]);
            return Err(dropped());
        }
        if (request.method, path.as_str()) == (Method::Post, "/token") {
            if let Some(gate) = self.with(|s| s.token_gate.clone()) {
                self.with(|s| s.gate_waiting += 1);
                gate.notified().await;
            }
        }
        Ok(match (request.method, path.as_str()) {
            (Method::Get, "/oauth/v2/oauth-anonymous/.well-known/openid-configuration") => {
                self.with(|s| s.discoveries += 1);
                respond(200, self.discovery())
            }
            (Method::Get, p) if p.starts_with("/jwks") => return self.jwks(p),
            (Method::Post, "/revoke") => return self.revoke(&request),
            (Method::Post, "/token") => self.token(&request),
            (Method::Post, "/register") => self.register(&request),
            (Method::Put, p) if p.starts_with("/register/") => {
                self.update(&request, &p["/register/".len()..])
            }
            (Method::Get | Method::Delete, p) if p.starts_with("/register/") => {
                self.manage(&request, &p["/register/".len()..])
            }
            (Method::Get, "/userinfo") => self.userinfo(&request),
            (method, path) => panic!("unexpected {method:?} {path}"),
        })
    }
}

/// The token of a request's `Authorization: Bearer` header (RFC 6750 §2.1).
fn bearer(request: &OutgoingRequest) -> String {
    request
        .authorization
        .as_ref()
        .unwrap()
        .expose()
        .trim_start_matches("Bearer ")
        .to_owned()
}
