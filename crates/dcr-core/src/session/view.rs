//! What the UI sees: [`StateView`], serialized as camelCase JSON. It holds no secret; the only
//! trace of a token is an 8-digit fingerprint (Z2).

use serde::Serialize;

use super::cleanup::PendingCleanup;
use super::tokens::Tokens;
use super::Session;
use crate::config::TokenEndpointAuthMethod;
use crate::device::signer::KeyHolder;
use crate::protocol::registration::SecretExpiry;
use serde_json::{Map, Value};

/// The three states of the session (architecture: Unregistered → Registered → SignedIn).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum StateName {
    Unregistered,
    Registered,
    SignedIn,
}

/// Why the session is where it is, when the user should be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Reason {
    /// `invalid_client`: the server revoked, deleted or expired this device's client (T2).
    Revoked,
    /// `client_secret_expires_at` passed; the next sign-in registers again (R6).
    SecretExpired,
    /// `invalid_grant` on refresh: sign in again, the registration is kept (F1).
    SessionExpired,
    /// The keychain entry could not be read and was discarded (S3).
    CorruptEntry,
    /// The keychain entry's registration needs a device key the entry does not hold (a copy
    /// from another device, K5); it was discarded.
    DeviceKeyMissing,
    /// The TPM no longer loads the device key (cleared or replaced, or the entry was copied
    /// from another computer); the registration was deleted.
    DeviceKeyLost,
}

/// How this device proves itself to the identity server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Credential {
    /// A per-install client secret (`client_secret_basic` / `client_secret_post`).
    ClientSecret,
    /// A per-install key pair, `private_key_jwt`: no shared secret on the device.
    DeviceKey,
}

/// The last thing that happened, for a status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Event {
    Restored,
    Registered,
    AlreadyRegistered,
    Reregistered,
    SignedIn,
    Refreshed,
    /// Signed in on start with the refresh token kept in the keychain (`rememberSignIn`).
    Resumed,
    /// Tokens wiped and the identity server's session ended.
    SignedOut,
    /// Tokens wiped; the server part was skipped, failed or could not be confirmed (L1-L3).
    SignedOutLocally,
    /// Registration deleted on the server (RFC 7592) and wiped locally.
    Forgotten,
    /// Wiped locally; the server could not be told.
    ForgottenLocally,
    Revoked,
    /// A new device key is registered with the server and in use (RFC 7592 update).
    KeyRotated,
}

/// The server half of an operation that failed after its local half was done, and that
/// [`Session::finish_server_cleanup`](super::Session::finish_server_cleanup) can try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ServerCleanup {
    /// Signed out here; revoking the refresh token and ending the server session failed.
    SignOut,
    /// Forgotten here; the RFC 7592 delete failed.
    Forget,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationView {
    pub client_id: String,
    /// Seconds since the Unix epoch.
    pub registered_at: i64,
    /// `None` means the secret never expires (`client_secret_expires_at: 0`).
    pub client_secret_expires_at: Option<i64>,
    /// Whether this is a templatized registration (`software_id`).
    pub templatized: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub sub: String,
    /// Who to greet: `name`, else `preferred_username`, else `email` (OIDC Core §5.1), from the
    /// merged claims. `None` rather than the subject, which is an opaque identifier (OIDC Core
    /// §2: "never reassigned", not meant for people): the shells then greet neutrally.
    pub display_name: Option<String>,
    /// ID-token claims (protocol claims removed), overlaid by UserInfo claims when their
    /// `sub` matched (I12).
    pub claims: Map<String, Value>,
}

/// The session as the UI and the CLI see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateView {
    pub state: StateName,
    pub reason: Option<Reason>,
    pub registration: Option<RegistrationView>,
    pub user: Option<UserView>,
    /// Seconds since the Unix epoch; `None` when not signed in or the server did not say.
    pub access_token_expires_at: Option<i64>,
    /// When to refresh the access token next (seconds since the Unix epoch): the engine's
    /// rule, so a shell only arms a timer for it. `None` when there is nothing to refresh (not
    /// signed in, no refresh token, or no expiry).
    pub refresh_at: Option<i64>,
    /// A short hash of the access token: shows a refresh happened, reveals nothing.
    pub token_fingerprint: Option<String>,
    pub last_event: Option<Event>,
    /// Set after `signedOutLocally` / `forgottenLocally` when the server part can be tried
    /// again. Memory only: cleared on success, by a new registration or sign-in, and by a
    /// restart.
    pub pending_server_cleanup: Option<ServerCleanup>,
    /// `host[:port]` of the issuer: the main window shows who it talks to.
    pub issuer_host: String,
    /// How this device authenticates: the registration's method when registered, else the
    /// configured one ("Device key (no shared secret)" on Home for `deviceKey`).
    pub credential: Credential,
    /// Whether tokens are bound to this device's key with DPoP (RFC 9449): the current tokens
    /// when signed in, else whether the next sign-in will bind them.
    pub tokens_bound: bool,
    /// RFC 7638 thumbprint of this install's public key (the `kid` and `dpop_jkt`): public,
    /// safe to show in About. `None` without a device key.
    pub device_key_thumbprint: Option<String>,
    /// Who holds this install's private key (`software` or `tpm`). `None` without a device key
    /// (a client-secret registration without DPoP).
    pub device_key_holder: Option<KeyHolder>,
    /// [`KeyHolder::describe`] of that holder: the sentence Home and About show as it is, and
    /// `dcr status` prints. The engine owns the words so the shells agree.
    pub device_key_text: Option<&'static str>,
    /// The mode browser steps run in (`embedded`, `system`, `loopback`): the one this
    /// registration was made with.
    pub user_agent: &'static str,
    /// Every mode the config allows, the default first; more than one means the registration
    /// screen offers a choice.
    pub user_agents: Vec<&'static str>,
}

impl Session {
    /// The session as the shells see it; built under the data lock, holds no secret.
    pub(super) async fn view(&self) -> StateView {
        let inner = self.inner.lock().await;
        let registration = inner.registration.as_ref().map(|stored| RegistrationView {
            client_id: stored.registration.client_id.clone(),
            registered_at: stored.registered_at,
            client_secret_expires_at: match stored.registration.client_secret_expires_at {
                SecretExpiry::Never => None,
                SecretExpiry::At(at) => Some(at),
            },
            templatized: self.config.software_id.is_some(),
        });
        let tokens = inner.tokens.as_ref();
        let stored = inner.registration.as_ref();
        let method = stored.map_or(self.config.token_endpoint_auth_method, |stored| {
            stored.registration.token_endpoint_auth_method
        });
        let device_key = stored.and_then(|stored| stored.device_key.as_ref());
        StateView {
            state: match (&registration, tokens) {
                (None, _) => StateName::Unregistered,
                (Some(_), None) => StateName::Registered,
                (Some(_), Some(_)) => StateName::SignedIn,
            },
            reason: inner.reason,
            user: tokens.map(|t| user_view(&t.id_token.claims, t.userinfo.as_ref())),
            access_token_expires_at: tokens.and_then(|t| t.expiry).map(|expiry| expiry.at),
            refresh_at: tokens.and_then(Tokens::refresh_at),
            token_fingerprint: tokens.map(|t| t.access_token.fingerprint()),
            last_event: inner.last_event,
            pending_server_cleanup: inner.pending.as_ref().map(PendingCleanup::kind),
            registration,
            issuer_host: issuer_host(self.config.issuer.url()),
            credential: match method {
                TokenEndpointAuthMethod::PrivateKeyJwt => Credential::DeviceKey,
                _ => Credential::ClientSecret,
            },
            tokens_bound: match tokens {
                Some(tokens) => tokens.bound,
                None => self.config.dpop && (stored.is_none() || device_key.is_some()),
            },
            device_key_thumbprint: device_key.map(|key| key.thumbprint().to_owned()),
            device_key_holder: device_key.map(|key| key.holder()),
            device_key_text: device_key.map(|key| key.holder().describe()),
            user_agent: self.config.active_user_agent().as_str(),
            user_agents: self
                .config
                .allowed_user_agents()
                .into_iter()
                .map(|mode| mode.as_str())
                .collect(),
        }
    }
}

/// Claims that name a person, best first (OIDC Core §5.1): the full name, the name they chose,
/// then their email address.
const GREETING_CLAIMS: [&str; 3] = ["name", "preferred_username", "email"];

/// Who is signed in. The display name comes from the merged claims (ID token, then UserInfo on
/// top), so a server that keeps profile claims out of the ID token (OIDC Core §5.4: they may be
/// returned from UserInfo only) still gives the heading the user's name.
fn user_view(
    id_claims: &crate::protocol::id_token::IdTokenClaims,
    userinfo: Option<&Map<String, Value>>,
) -> UserView {
    let claims = display_claims(&id_claims.all, userinfo);
    let display_name = GREETING_CLAIMS
        .iter()
        .filter_map(|name| claims.get(*name).and_then(Value::as_str))
        .map(str::trim)
        .find(|text| !text.is_empty())
        .map(str::to_owned);
    UserView {
        sub: display_text(&id_claims.sub),
        display_name,
        claims,
    }
}

/// `host[:port]` of a URL, for display.
pub(crate) fn issuer_host(url: &url::Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => String::new(),
    }
}

/// ID-token claims that are protocol plumbing, not facts about the user.
const PROTOCOL_CLAIMS: [&str; 12] = [
    "nonce",
    "at_hash",
    "c_hash",
    "s_hash",
    "sid",
    "azp",
    "aud",
    "iss",
    "jti",
    "exp",
    "iat",
    "auth_time",
];

/// Longest claim name or string value shown; longer ones are cut.
const MAX_CLAIM_CHARS: usize = 500;

/// The claims to show: ID token minus plumbing, then UserInfo on top. Every name and string is
/// sanitized (control, bidi and zero-width characters removed): the Home screen and the CLI's
/// terminal output show them as they come from the server.
pub(crate) fn display_claims(
    id_claims: &Map<String, Value>,
    userinfo: Option<&Map<String, Value>>,
) -> Map<String, Value> {
    let mut claims: Map<String, Value> = id_claims
        .iter()
        .filter(|(name, _)| !PROTOCOL_CLAIMS.contains(&name.as_str()))
        .map(|(name, value)| (display_text(name), display_value(value)))
        .collect();
    if let Some(userinfo) = userinfo {
        for (name, value) in userinfo {
            claims.insert(display_text(name), display_value(value));
        }
    }
    claims
}

/// A server-provided string as it may be shown to the user.
pub(crate) fn display_text(text: &str) -> String {
    crate::error::sanitize(text, MAX_CLAIM_CHARS)
}

fn display_value(value: &Value) -> Value {
    match value {
        Value::String(text) => Value::String(display_text(text)),
        Value::Array(items) => Value::Array(items.iter().map(display_value).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(name, value)| (display_text(name), display_value(value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tokens::Expiry;
    use super::*;
    use crate::protocol::id_token::{IdToken, IdTokenClaims};
    use crate::Secret;
    use serde_json::json;

    const SUB: &str = "248289761001-a3f9c2";

    /// Who Home and the CLI greet, from ID-token claims and UserInfo.
    fn greeting(id_claims: Value, userinfo: Option<Value>) -> Option<String> {
        let id_claims = IdTokenClaims {
            sub: SUB.to_owned(),
            exp: 0,
            iat: 0,
            name: None,
            all: id_claims.as_object().cloned().unwrap_or_default(),
        };
        user_view(&id_claims, userinfo.as_ref().and_then(Value::as_object)).display_name
    }

    /// 2026-11-27 19:30:05 UTC.
    const NOW: i64 = 1_795_807_805;

    fn tokens(refresh_token: Option<&str>, expires_in: Option<u64>) -> Tokens {
        Tokens {
            access_token: Secret::new("at"),
            refresh_token: refresh_token.map(Secret::new),
            id_token: IdToken {
                raw: Secret::new("a.b.c"),
                claims: IdTokenClaims {
                    sub: SUB.to_owned(),
                    exp: 0,
                    iat: 0,
                    name: None,
                    all: Map::new(),
                },
            },
            expiry: Expiry::after(expires_in, NOW),
            userinfo: None,
            bound: false,
        }
    }

    #[test]
    fn the_view_names_when_to_refresh_a_fifth_of_the_lifetime_early_between_5_and_60_s() {
        let timing = |expires_in| {
            let expiry = Expiry::after(Some(expires_in), NOW).unwrap();
            (expiry.at - NOW, expiry.refresh_at - NOW)
        };
        assert_eq!(
            timing(300),
            (300, 240),
            "a five-minute token: a minute early"
        );
        assert_eq!(timing(3600), (3600, 3540), "never more than a minute early");
        assert_eq!(timing(100), (100, 80), "a fifth of the lifetime");
        assert_eq!(timing(20), (20, 15), "at least 5 s early");
        // Already expired when it arrived (`expires_in` 0; token.rs clamps a negative one):
        // due at once.
        assert_eq!(timing(0), (0, -5));
        assert_eq!(Expiry::after(None, NOW), None, "the server did not say");
    }

    #[test]
    fn the_view_names_no_refresh_without_a_refresh_token_or_an_expiry() {
        assert_eq!(tokens(Some("rt"), Some(300)).refresh_at(), Some(NOW + 240));
        assert_eq!(tokens(None, Some(300)).refresh_at(), None);
        assert_eq!(tokens(Some("rt"), None).refresh_at(), None);
    }

    #[test]
    fn the_greeting_is_the_name_then_the_username_then_the_email_never_the_subject() {
        let all = json!({"sub": SUB, "name": "Jane Doe", "preferred_username": "jdoe", "email": "jane@example.com"});
        assert_eq!(greeting(all, None).as_deref(), Some("Jane Doe"));
        let username =
            json!({"sub": SUB, "preferred_username": "jdoe", "email": "jane@example.com"});
        assert_eq!(greeting(username, None).as_deref(), Some("jdoe"));
        let email = json!({"sub": SUB, "email": "jane@example.com"});
        assert_eq!(greeting(email, None).as_deref(), Some("jane@example.com"));
        // A blank claim is no name; UserInfo counts like the ID token (OIDC Core §5.4).
        let blank = json!({"sub": SUB, "name": " \u{200B}", "preferred_username": "jdoe"});
        assert_eq!(greeting(blank, None).as_deref(), Some("jdoe"));
        let profile = json!({"name": "Jane Doe"});
        assert_eq!(
            greeting(
                json!({"sub": SUB, "email": "jane@example.com"}),
                Some(profile)
            )
            .as_deref(),
            Some("Jane Doe")
        );
        // Only the opaque subject: no greeting (Home says "Signed in"; the subject stays in
        // the claims table).
        assert_eq!(greeting(json!({"sub": SUB}), None), None);
        assert_eq!(greeting(json!({"sub": SUB, "email": 42}), None), None);
    }

    #[test]
    fn claims_shown_to_the_user_lose_bidi_and_zero_width_characters() {
        let id_claims = serde_json::json!({
            "nonce": "n",
            "name": "Mallory \u{202E}nimda\u{202C}",
            "groups": ["a\u{200B}b", {"x\u{2066}": "y\u{FEFF}"}],
            "age": 42,
        });
        let userinfo = serde_json::json!({"email": "m\u{200D}@example.com\u{1b}[2J"});
        let shown = display_claims(
            id_claims.as_object().unwrap(),
            Some(userinfo.as_object().unwrap()),
        );
        assert_eq!(
            Value::Object(shown),
            serde_json::json!({
                "name": "Mallory nimda",
                "groups": ["ab", {"x": "y"}],
                "age": 42,
                "email": "m@example.com[2J",
            })
        );
    }
}
