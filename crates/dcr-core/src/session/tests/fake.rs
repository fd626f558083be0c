//! A fake identity server (as a [`Transport`]) and a fake browser (as a [`UserAgent`]) that
//! share state, so the whole session runs in a unit test. It checks what a strict server
//! checks: single-use codes, PKCE S256, client secrets, refresh-token rotation, DCR tokens.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};
use url::Url;

use crate::agents::{BrowserPurpose, BrowserStep, UserAgent, UserAgentError};
use crate::platform::http::{CappedResponse, Method, OutgoingRequest, SendError, Transport};
use crate::test_support::{TestKey, ISSUER};

mod device;
mod keys;
mod update;

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

    /// RFC 6749 §2.3.1: Basic (form-urlencoded inside) or the body.
    fn client_auth(
        request: &OutgoingRequest,
        form: &HashMap<String, String>,
    ) -> (Option<String>, Option<String>) {
        if let Some(header) = &request.authorization {
            let decoded = STANDARD
                .decode(header.expose().strip_prefix("Basic ").unwrap())
                .unwrap();
            let decoded = String::from_utf8(decoded).unwrap();
            let (id, secret) = decoded.split_once(':').unwrap();
            let unescape = |v: &str| {
                url::form_urlencoded::parse(format!("v={v}").as_bytes())
                    .next()
                    .unwrap()
                    .1
                    .into_owned()
            };
            return (Some(unescape(id)), Some(unescape(secret)));
        }
        (
            form.get("client_id").cloned(),
            form.get("client_secret").cloned(),
        )
    }

    fn token(&self, request: &OutgoingRequest) -> CappedResponse {
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(request.body.as_ref().unwrap().expose().as_bytes())
                .into_owned()
                .collect();
        let mut state = self.state.lock().unwrap();
        state.token_requests += 1;
        // RFC 7523 §2.2: an assertion instead of a secret.
        let by_key = form.contains_key("client_assertion");
        let (client_id, secret) = if by_key {
            match state.device.assertion_client(&form) {
                Some(client_id) if state.clients.contains_key(&client_id) => {
                    (Some(client_id), None)
                }
                _ => return respond(401, json!({"error": "invalid_client"})),
            }
        } else {
            Self::client_auth(request, &form)
        };
        let client_id = client_id.unwrap_or_default();
        let dynamic = client_id != STATIC_CLIENT;
        // RFC 9449: a proof is checked before anything else the request says.
        let bound = request.dpop.is_some();
        assert!(dynamic || !bound, "the DCR login stays Bearer");
        if bound {
            if let Err(refused) = state.device.check_proof(request, false) {
                return refused;
            }
        }
        let token_type = if bound && !state.device.ignore_proofs {
            "DPoP"
        } else {
            "Bearer"
        };
        if dynamic && state.token_bare_401 {
            return CappedResponse {
                status: 401,
                content_type: Some("text/html".into()),
                body: b"<html>401 Authorization Required</html>".to_vec(),
                ..Default::default()
            };
        }
        if dynamic && !by_key && state.clients.get(&client_id).map(|c| &c.0) != secret.as_ref() {
            return respond(401, json!({"error": "invalid_client"}));
        }
        match form["grant_type"].as_str() {
            "authorization_code" => {
                let Some(grant) = state.grants.remove(&form["code"]) else {
                    return respond(400, json!({"error": "invalid_grant"}));
                };
                // The engine's verifier is a secret too (for the log assertions).
                state.issued.push(form["code_verifier"].clone());
                let digest =
                    ring::digest::digest(&ring::digest::SHA256, form["code_verifier"].as_bytes());
                assert_eq!(URL_SAFE_NO_PAD.encode(digest), grant.challenge, "PKCE S256");
                assert_eq!(grant.client_id, client_id);
                if !dynamic {
                    let token = Self::fresh(&mut state, "dcr");
                    state.dcr_tokens.push(token.clone());
                    return respond(
                        200,
                        json!({"access_token": token, "token_type": "Bearer", "expires_in": 300}),
                    );
                }
                if let Some((status, body)) = state.code_error.clone() {
                    return respond(status, body);
                }
                let (access, refresh) =
                    (Self::fresh(&mut state, "at"), Self::fresh(&mut state, "rt"));
                state
                    .refresh_tokens
                    .insert(refresh.clone(), client_id.clone());
                let id_token = self.id_token(&state, &client_id, Some(&grant.nonce));
                state.issued.push(id_token.clone());
                respond(
                    200,
                    json!({"access_token": access, "token_type": token_type, "expires_in": 300, "refresh_token": refresh, "id_token": id_token}),
                )
            }
            "refresh_token" => {
                if let Some((status, body)) = state.refresh_error.clone() {
                    return respond(status, body);
                }
                let presented = &form["refresh_token"];
                if state.refresh_tokens.get(presented) != Some(&client_id) {
                    // Reuse of a rotated token: a strict server answers invalid_grant (F3).
                    return respond(400, json!({"error": "invalid_grant"}));
                }
                let access = Self::fresh(&mut state, "at");
                let mut body = json!({"access_token": access, "token_type": token_type.to_lowercase(), "expires_in": 600});
                if !state.no_rotation {
                    state.refresh_tokens.remove(presented);
                    let refresh = Self::fresh(&mut state, "rt");
                    state
                        .refresh_tokens
                        .insert(refresh.clone(), client_id.clone());
                    body["refresh_token"] = json!(refresh);
                }
                if state.refresh_id_token {
                    body["id_token"] = json!(self.id_token(&state, &client_id, None));
                }
                respond(200, body)
            }
            other => panic!("unexpected grant {other}"),
        }
    }

    fn register(&self, request: &OutgoingRequest) -> CappedResponse {
        let mut state = self.state.lock().unwrap();
        let bearer = request
            .authorization
            .as_ref()
            .map(|a| a.expose().trim_start_matches("Bearer ").to_owned());
        if !bearer.is_some_and(|token| state.dcr_tokens.contains(&token)) {
            return respond(401, json!({"error": "invalid_token"}));
        }
        if let Some((status, body)) = state.registration_error.clone() {
            return respond(status, body);
        }
        let body: Value = serde_json::from_str(request.body.as_ref().unwrap().expose()).unwrap();
        let device_key = (body["token_endpoint_auth_method"] == "private_key_jwt")
            .then(|| body["jwks"]["keys"][0].clone());
        // A templatized request names no redirect: the template's is used.
        let redirects = match body.get("redirect_uris") {
            Some(uris) => uris.clone(),
            None => json!(["io.curity.dcrclient:/callback"]),
        };
        state.last_registration_body = Some(body);
        state.registrations += 1;
        let client_id = format!("client-{}", state.registrations);
        let secret = Self::fresh(&mut state, "secret");
        let rat = Self::fresh(&mut state, "rat");
        state
            .clients
            .insert(client_id.clone(), (secret.clone(), rat.clone()));
        state.redirects.insert(client_id.clone(), redirects.clone());
        let mut body = json!({
            "client_id": client_id, "client_secret": secret, "client_secret_expires_at": state.secret_expires_at,
            "registration_access_token": rat, "registration_client_uri": format!("{BASE}/register/{client_id}"),
            "token_endpoint_auth_method": "client_secret_basic", "redirect_uris": redirects,
        });
        if state.no_management {
            body.as_object_mut()
                .unwrap()
                .remove("registration_client_uri");
        }
        if let Some(jwk) = device_key {
            // Like oidc-provider: no secret for private_key_jwt, the key echoed.
            crate::test_support::as_private_key_jwt(&mut body);
            body["jwks"] = json!({ "keys": [jwk.clone()] });
            state.device.client_keys.insert(client_id.clone(), jwk);
        }
        patch(&mut body, state.registration_patch.clone());
        respond(201, body)
    }

    /// RFC 7592 §2.1 read and §2.3 delete. Like oidc-provider, an unknown client or token is 401.
    fn manage(&self, request: &OutgoingRequest, client_id: &str) -> CappedResponse {
        let mut state = self.state.lock().unwrap();
        let bearer = bearer(request);
        if request.method == Method::Get {
            state.reads += 1;
            if let Some(status) = state.read_status {
                return respond(status, json!({}));
            }
        } else {
            state
                .delete_requests
                .push((request.url.path().to_owned(), bearer.clone()));
            if let Some(status) = state.delete_status {
                return respond(status, json!({}));
            }
        }
        let Some((secret, rat)) = state.clients.get(client_id).cloned() else {
            return respond(401, json!({"error": "invalid_token"}));
        };
        if rat != bearer {
            return respond(401, json!({"error": "invalid_token"}));
        }
        if request.method == Method::Get {
            // Like oidc-provider: the client's metadata, without the management token.
            let (mut secret, mut rat) = (secret, None);
            if state.rotate_secret_on_read {
                state.rotate_secret_on_read = false;
                secret = Self::fresh(&mut state, "secret");
            }
            if state.rotate_token_on_read || state.rotate_token_on_every_read {
                state.rotate_token_on_read = false;
                rat = Some(Self::fresh(&mut state, "rat"));
            }
            let current = rat.clone().unwrap_or(bearer);
            state
                .clients
                .insert(client_id.to_owned(), (secret.clone(), current));
            let redirects = state
                .redirects
                .get(client_id)
                .cloned()
                .unwrap_or_else(|| json!(["io.curity.dcrclient:/callback"]));
            let mut body = json!({
                "client_id": client_id, "client_secret": secret,
                "client_secret_expires_at": state.secret_expires_at,
                "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": redirects,
            });
            if let Some(rat) = rat {
                body["registration_access_token"] = json!(rat);
            }
            if state.device.client_keys.contains_key(client_id) {
                crate::test_support::as_private_key_jwt(&mut body);
            }
            patch(&mut body, state.read_patch.clone());
            return respond(200, body);
        }
        state.clients.remove(client_id);
        state.deleted.push(client_id.to_owned());
        respond(204, json!({}))
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

/// The browser: logs the user in at once (SSO) and redirects back.
pub(super) struct FakeBrowser(pub Arc<FakeIdp>);

#[async_trait::async_trait]
impl UserAgent for FakeBrowser {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        let BrowserStep {
            url,
            redirect,
            state: step_state,
            purpose,
            user_action_expected,
        } = step;
        let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
        // The step names the `state` its answer must carry, so no agent reads it out of `url`.
        assert_eq!(query["state"], step_state.expose(), "the step's state");
        let mut state = self.0.state.lock().unwrap();
        state
            .browser_purposes
            .push((purpose, user_action_expected, redirect.as_str().to_owned()));
        let step = format!(
            "{} {}",
            url.path(),
            query.get("prompt").map(String::as_str).unwrap_or("sso")
        );
        state.browser_steps.push(step);
        if state.cancel_browser {
            return Err(UserAgentError::Cancelled);
        }
        // Like oidc-provider: an unknown client gets an error page, never a redirect.
        if let Some(client_id) = query.get("client_id") {
            if client_id != STATIC_CLIENT && !state.clients.contains_key(client_id) {
                return Err(UserAgentError::Failed(
                    "the server showed an error page".into(),
                ));
            }
        }
        let mut back = redirect.url().clone();
        if url.path() == "/logout" {
            assert_eq!(query["post_logout_redirect_uri"], redirect.as_str());
            back.query_pairs_mut().append_pair("state", &query["state"]);
            return Ok(back);
        }
        assert_eq!(query["redirect_uri"], redirect.as_str());
        assert_eq!(query["code_challenge_method"], "S256");
        // Like oidc-provider: `nonce` only on OpenID requests.
        let openid = query["scope"].split(' ').any(|s| s == "openid");
        assert_eq!(openid, query.contains_key("nonce"), "nonce iff openid");
        let code = FakeIdp::fresh(&mut state, "code");
        let grant = Grant {
            client_id: query["client_id"].clone(),
            nonce: query.get("nonce").cloned().unwrap_or_default(),
            challenge: query["code_challenge"].clone(),
        };
        state.grants.insert(code.clone(), grant);
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &query["state"])
            .append_pair("iss", ISSUER);
        Ok(back)
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
