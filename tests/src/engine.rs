//! Wiring the engine to the bundled identity server in tests: a config for an [`Idp`], a store
//! the test can look into while the session owns it, a back channel that records what the
//! engine sent and received (and can be slowed down), and a [`Rig`] that puts them together.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use dcr_core::device::store::{MemoryStore, RegistrationStore, StoreKey, StoredRegistration};
use dcr_core::platform::http::{
    back_channel_client, CappedResponse, Method, OutgoingRequest, SendError, Transport,
};
use dcr_core::{Config, Session, StateView};
use url::Url;

use crate::{Idp, IdpOptions, ScriptedAgent, ScriptedBrowser};

pub const REGISTRATION_CLIENT: &str = "mobile-dcr-client";
pub const TEMPLATE_CLIENT: &str = "mobile-dcr-template-client";
pub const REDIRECT_URI: &str = "io.curity.dcrclient:/callback";
pub const POST_LOGOUT_URI: &str = "io.curity.dcrclient:/logoutcallback";

/// Every kind of secret the bundled server reports issuing over a whole lifecycle (the `kind`
/// of its admin API's issued secrets): the leak checks look for each of them.
pub const SECRET_KINDS: [&str; 6] = [
    "client_secret",
    "registration_access_token",
    "code",
    "access_token",
    "refresh_token",
    "id_token",
];

/// The two registration forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// The seed's full RFC 7591 metadata.
    Full,
    /// `{"software_id": "mobile-dcr-template-client"}`.
    Templatized,
}

impl Form {
    pub fn software_id(self) -> Option<&'static str> {
        match self {
            Form::Full => None,
            Form::Templatized => Some(TEMPLATE_CLIENT),
        }
    }
}

/// The tutorial's `config.json`, pointed at `idp`.
pub fn config_json(idp: &Idp, form: Form) -> serde_json::Value {
    let mut config = serde_json::json!({
        "issuer": idp.issuer.as_str(),
        "registrationClientID": REGISTRATION_CLIENT,
        "redirectUri": REDIRECT_URI,
        "postLogoutRedirectUri": POST_LOGOUT_URI,
        "scope": "openid profile",
    });
    if let Some(software_id) = form.software_id() {
        config["softwareId"] = software_id.into();
    }
    config
}

pub fn engine_config(idp: &Idp, form: Form) -> Config {
    Config::from_json(&config_json(idp, form).to_string()).expect("the test config is valid")
}

/// The keychain entry the engine uses for this server and form.
pub fn store_key(idp: &Idp, form: Form) -> StoreKey {
    StoreKey::new(
        idp.issuer.as_str(),
        REGISTRATION_CLIENT,
        REDIRECT_URI,
        form.software_id(),
    )
}

/// A session over a recording back channel.
pub fn session(
    idp: &Idp,
    form: Form,
    transport: Arc<RecordingTransport>,
    store: Box<dyn RegistrationStore>,
) -> Session {
    Session::with_transport(engine_config(idp, form), transport, store)
}

/// One engine session against its own identity server: the shared browser (one cookie jar, so
/// one SSO session), the recording back channel, and the memory store the session owns.
pub struct Rig {
    pub idp: Idp,
    pub browser: Arc<ScriptedBrowser>,
    pub transport: Arc<RecordingTransport>,
    pub store: Arc<MemoryStore>,
    pub session: Session,
    pub form: Form,
}

impl Rig {
    /// A default identity server and an undelayed back channel.
    pub async fn start(form: Form) -> Rig {
        Rig::start_with(IdpOptions::default(), form, RecordingTransport::new()).await
    }

    pub async fn start_with(options: IdpOptions, form: Form, transport: RecordingTransport) -> Rig {
        Rig::start_configured(options, form, transport, serde_json::json!({})).await
    }

    /// [`start_with`](Self::start_with), with `extra` keys over the tutorial's config (say
    /// `tokenEndpointAuthMethod` and `dpop` for a device-bound client).
    pub async fn start_configured(
        options: IdpOptions,
        form: Form,
        transport: RecordingTransport,
        extra: serde_json::Value,
    ) -> Rig {
        let idp = Idp::start_with(options).await;
        let mut config = config_json(&idp, form);
        if let (Some(base), Some(extra)) = (config.as_object_mut(), extra.as_object()) {
            base.extend(extra.clone());
        }
        let config = Config::from_json(&config.to_string()).expect("the test config is valid");
        let transport = Arc::new(transport);
        let store = Arc::new(MemoryStore::new());
        let session = Session::with_transport(config, transport.clone(), Box::new(store.clone()));
        Rig {
            idp,
            browser: Arc::new(ScriptedBrowser::new()),
            transport,
            store,
            session,
            form,
        }
    }

    /// A user agent on the rig's browser that signs in as the demo user when asked.
    pub fn agent(&self) -> ScriptedAgent {
        ScriptedAgent::login(self.browser.clone())
    }

    /// Registers and signs in with `agent`, and returns the new client's ID.
    pub async fn signed_in_client(&self, agent: &ScriptedAgent) -> String {
        let view = self
            .session
            .register_and_sign_in(agent)
            .await
            .expect("registration and sign-in succeed");
        client_id(&view)
    }

    /// What the store holds for this rig's server and form.
    pub fn stored(&self) -> Option<StoredRegistration> {
        self.store
            .load(&store_key(&self.idp, self.form))
            .expect("the memory store never fails")
    }
}

/// The client ID of the registration a view shows (panics when it shows none).
pub fn client_id(view: &StateView) -> String {
    let registration = view
        .registration
        .as_ref()
        .expect("the view shows a registration");
    registration.client_id.clone()
}

/// A query parameter of a URL the engine asked to open.
pub fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// One back-channel exchange as the engine made it. `Debug` shows method, path and status only.
#[derive(Clone)]
pub struct Exchange {
    pub method: &'static str,
    pub path: String,
    pub authorization: Option<String>,
    pub request_body: Option<String>,
    /// `None` when the request failed before a response.
    pub status: Option<u16>,
    pub response_body: Option<String>,
    /// The `DPoP` proof header the engine sent (RFC 9449 §4.1).
    pub dpop: Option<String>,
    /// The `DPoP-Nonce` header the server answered with (RFC 9449 §8).
    pub response_dpop_nonce: Option<String>,
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} -> {:?}", self.method, self.path, self.status)
    }
}

impl Exchange {
    /// A field of the form-encoded request body (token, revocation requests).
    pub fn form(&self, name: &str) -> Option<String> {
        let body = self.request_body.as_deref()?;
        url::form_urlencoded::parse(body.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The client ID of `client_secret_basic` (RFC 6749 §2.3.1), or of `client_id` in the
    /// body (public clients and `client_secret_post`).
    pub fn client_id(&self) -> Option<String> {
        let basic = self
            .authorization
            .as_deref()
            .and_then(|value| value.strip_prefix("Basic "))
            .and_then(|encoded| STANDARD.decode(encoded).ok())
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|pair| pair.split_once(':').map(|(id, _)| id.to_owned()))
            // The ID was form-urlencoded before encoding (RFC 6749 §2.3.1).
            .and_then(|id| {
                url::form_urlencoded::parse(id.as_bytes())
                    .next()
                    .map(|(decoded, _)| decoded.into_owned())
            });
        basic.or_else(|| self.form("client_id"))
    }

    pub fn response_json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(self.response_body.as_deref()?).ok()
    }
}

/// The engine's real back channel ([`back_channel_client`]), recording every exchange and
/// optionally holding back requests to one path (a slow network).
pub struct RecordingTransport {
    client: reqwest::Client,
    exchanges: Mutex<Vec<Exchange>>,
    delay: Option<(String, Duration)>,
}

impl Default for RecordingTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordingTransport {
    pub fn new() -> Self {
        Self {
            client: back_channel_client(),
            exchanges: Mutex::new(Vec::new()),
            delay: None,
        }
    }

    /// Waits `delay` before sending any request whose URL path ends with `path_suffix`.
    pub fn delaying(path_suffix: &str, delay: Duration) -> Self {
        Self {
            delay: Some((path_suffix.to_owned(), delay)),
            ..Self::new()
        }
    }

    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The exchanges with a path ending in `suffix` (`/token`, `/reg`, …).
    pub fn to(&self, suffix: &str) -> Vec<Exchange> {
        self.exchanges()
            .into_iter()
            .filter(|exchange| exchange.path.ends_with(suffix))
            .collect()
    }

    /// The token requests of one grant type (`authorization_code`, `refresh_token`).
    pub fn grants(&self, grant_type: &str) -> Vec<Exchange> {
        self.to("/token")
            .into_iter()
            .filter(|exchange| exchange.form("grant_type").as_deref() == Some(grant_type))
            .collect()
    }

    /// The exchanges with this method (`GET`, `POST`, `DELETE`).
    pub fn with_method(&self, method: &str) -> Vec<Exchange> {
        self.exchanges()
            .into_iter()
            .filter(|exchange| exchange.method == method)
            .collect()
    }

    /// Checks that the client the `nth` registration request created was deleted again, so no
    /// orphan is left on the server: the only DELETE (RFC 7592 §2.3) names it and got 204.
    pub fn assert_registered_client_deleted(&self, nth: usize) {
        let created = self.to("/reg")[nth]
            .response_json()
            .expect("the registration answered JSON")["client_id"]
            .as_str()
            .expect("the registration has a client_id")
            .to_owned();
        self.assert_deleted_once(&created);
    }

    /// Checks that the only DELETE (RFC 7592 §2.3) was of `client_id`, and got 204.
    pub fn assert_deleted_once(&self, client_id: &str) {
        let deletes = self.with_method("DELETE");
        assert_eq!(deletes.len(), 1, "{deletes:?}");
        assert!(deletes[0].path.ends_with(client_id));
        assert_eq!(deletes[0].status, Some(204));
    }
}

#[async_trait::async_trait]
impl Transport for RecordingTransport {
    async fn send(&self, request: OutgoingRequest) -> Result<CappedResponse, SendError> {
        let mut exchange = Exchange {
            method: match request.method {
                Method::Get => "GET",
                Method::Post => "POST",
                Method::Put => "PUT",
                Method::Delete => "DELETE",
            },
            path: request.url.path().to_owned(),
            authorization: request
                .authorization
                .as_ref()
                .map(|s| s.expose().to_owned()),
            request_body: request.body.as_ref().map(|s| s.expose().to_owned()),
            status: None,
            response_body: None,
            dpop: request.dpop.as_ref().map(|s| s.expose().to_owned()),
            response_dpop_nonce: None,
        };
        if let Some((suffix, delay)) = &self.delay {
            if exchange.path.ends_with(suffix.as_str()) {
                tokio::time::sleep(*delay).await;
            }
        }
        let result = self.client.send(request).await;
        if let Ok(response) = &result {
            exchange.status = Some(response.status);
            exchange.response_body = Some(String::from_utf8_lossy(&response.body).into_owned());
            exchange.response_dpop_nonce = response.dpop_nonce.clone();
        }
        self.exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(exchange);
        result
    }
}
