//! `config.json` → a validated [`Config`].
//!
//! The required keys are Curity's (`issuer`, `registrationClientID`, `redirectUri`,
//! `postLogoutRedirectUri`, `scope`), so the tutorial's file works unchanged. Validation happens
//! once, here: unknown keys and malformed values are rejected with a message that names the key
//! and says how to fix it. This is serde's `deny_unknown_fields` done by hand, because
//! serde_json's type errors name a line and column but not the key.

use std::path::Path;

use serde_json::{Map, Value};
use url::{Origin, Url};

use crate::error::ConfigError;
pub use crate::text::{check_secure_url, is_loopback};

mod origins;
mod redirects;
mod user_agents;

const KNOWN_KEYS: &str =
    "issuer, registrationClientID, redirectUri, postLogoutRedirectUri, scope, \
     softwareId, dcrScope, tokenEndpointAuthMethod, dpop, deviceKeyStorage, acrValues, \
     rememberSignIn, userAgent, signInOrigins";

/// How the per-install client authenticates at the token endpoint (RFC 7591 §2,
/// OIDC Core §9): a per-install secret, or a per-install key pair whose private half never
/// leaves the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// HTTP Basic with form-urlencoded id and secret (RFC 6749 §2.3.1). The default.
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A JWT signed with this install's device key (RFC 7523 §2.2, OIDC Core §9): no shared
    /// secret exists; the server only knows the public key registered in `jwks`.
    PrivateKeyJwt,
}

impl TokenEndpointAuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "client_secret_basic" => Some(Self::ClientSecretBasic),
            "client_secret_post" => Some(Self::ClientSecretPost),
            "private_key_jwt" => Some(Self::PrivateKeyJwt),
            _ => None,
        }
    }
}

/// `deviceKeyStorage`: who holds the private half of this install's key pair (the
/// `private_key_jwt` and DPoP key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceKeyStorage {
    /// The key as PKCS#8 in the keychain entry: whoever copies the whole entry holds it. The
    /// default, and what every computer can do.
    #[default]
    Software,
    /// A key created in this computer's TPM 2.0, which never lets the private key out; no
    /// usable TPM is an error that says how to fix it.
    Tpm,
    /// The TPM when it is usable, else the software key.
    Auto,
}

impl DeviceKeyStorage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Software => "software",
            Self::Tpm => "tpm",
            Self::Auto => "auto",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "software" => Some(Self::Software),
            "tpm" => Some(Self::Tpm),
            "auto" => Some(Self::Auto),
            _ => None,
        }
    }
}

/// Which user agent runs browser steps (`userAgent`; see `config/user_agents.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAgentKind {
    Embedded,
    System,
    Loopback,
}

/// The accessors of a URL kept as configured (`text`, compared byte for byte) and parsed
/// (`url`): [`Issuer`] and [`RedirectUri`].
macro_rules! text_and_url {
    ($type:ident) => {
        impl $type {
            pub fn as_str(&self) -> &str {
                &self.text
            }

            pub fn url(&self) -> &Url {
                &self.url
            }
        }
    };
}

/// The issuer exactly as configured (Discovery 1.0 §4.3 compares strings, so
/// `https://x/` and `https://x` are different issuers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    text: String,
    url: Url,
}

text_and_url!(Issuer);

impl Issuer {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
        check_secure_url(&url)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(
                "an issuer has no query or fragment (OpenID Connect Discovery 1.0 §2)".into(),
            );
        }
        Ok(Self {
            text: text.to_owned(),
            url,
        })
    }
}

/// A redirect URI: a private-use scheme (`io.curity.dcrclient:/callback`, RFC 8252 §7.1),
/// an http loopback address (RFC 8252 §7.3) or https. Matching is exact on scheme, host, port
/// and path (RFC 8252 §8.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri {
    text: String,
    url: Url,
}

text_and_url!(RedirectUri);

impl RedirectUri {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
        if url.fragment().is_some() {
            return Err("a redirect URI must not have a fragment (RFC 6749 §3.1.2)".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("a redirect URI must not contain a user name or password".into());
        }
        match url.scheme() {
            "http" if is_loopback(&url) => {}
            "http" => return Err("http:// is only allowed for 127.0.0.1, [::1] or localhost".into()),
            "https" => {}
            scheme if scheme.contains('.') => {
                if url.host().is_some() {
                    return Err("a private-use scheme redirect has a single slash and no host, like io.example.app:/callback (RFC 8252 §7.1)".into());
                }
            }
            _ => return Err("use a reverse-domain private-use scheme such as io.example.app:/callback, or http://127.0.0.1:<port>/path (RFC 8252 §7)".into()),
        }
        Ok(Self {
            text: text.to_owned(),
            url,
        })
    }

    /// True when `candidate` is a response sent to this redirect URI: same scheme, host, port
    /// and path. The query carries the response, so it is not compared.
    pub fn matches(&self, candidate: &Url) -> bool {
        candidate.scheme() == self.url.scheme()
            && candidate.host() == self.url.host()
            && candidate.port_or_known_default() == self.url.port_or_known_default()
            && candidate.path() == self.url.path()
            && candidate.username().is_empty()
            && candidate.password().is_none()
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub issuer: Issuer,
    /// The static public client used for the registration login (`mobile-dcr-client`).
    pub registration_client_id: String,
    pub redirect_uri: RedirectUri,
    pub post_logout_redirect_uri: RedirectUri,
    /// The scope of the real sign-in, e.g. `openid profile`.
    pub scope: String,
    /// Its presence selects templatized DCR: the body is exactly `{"software_id": …}`.
    pub software_id: Option<String>,
    /// The scope of the registration login; the resulting access token is the DCR token.
    pub dcr_scope: String,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// `dpop`: bind the sign-in's tokens to this install's key with DPoP (RFC 9449). Works with
    /// every auth method; with `private_key_jwt` the same key pair does both.
    pub dpop: bool,
    /// `deviceKeyStorage`: where a new device key is made (a key already stored is used
    /// where it is, until it is rotated or the device registered again).
    pub device_key_storage: DeviceKeyStorage,
    /// Space-separated `acr_values` for both logins (OIDC Core §3.1.2.1).
    pub acr_values: Option<String>,
    pub remember_sign_in: bool,
    /// The mode browser steps run in: `userAgent`'s (first) mode, or the one chosen on the
    /// registration screen ([`Config::with_user_agent`]); `None` is embedded.
    pub user_agent: Option<UserAgentKind>,
    /// Every mode `userAgent` allows, the default first; empty when the key is absent.
    pub user_agents: Vec<UserAgentKind>,
    /// `signInOrigins`: web origins besides the issuer's that the sign-in window may show.
    pub sign_in_origins: Vec<Origin>,
}

impl Config {
    /// Reads and validates a config file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::from_json(&text)
    }

    /// Validates config JSON text.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let value: Value = serde_json::from_str(text).map_err(|e| ConfigError::Syntax {
            reason: e.to_string(),
        })?;
        let Value::Object(mut map) = value else {
            return Err(ConfigError::Syntax {
                reason: "the top level must be an object { … }".into(),
            });
        };
        let issuer = required(
            &mut map,
            "issuer",
            "\"https://idsvr.example.com/oauth/v2/oauth-anonymous\"",
        )?;
        let registration_client_id =
            required(&mut map, "registrationClientID", "\"mobile-dcr-client\"")?;
        let redirect_uri = required(&mut map, "redirectUri", "\"io.curity.dcrclient:/callback\"")?;
        let post_logout = required(
            &mut map,
            "postLogoutRedirectUri",
            "\"io.curity.dcrclient:/logoutcallback\"",
        )?;
        let scope = required(&mut map, "scope", "\"openid profile\"")?;
        let software_id = optional_string(&mut map, "softwareId")?;
        let dcr_scope = optional_string(&mut map, "dcrScope")?.unwrap_or_else(|| "dcr".into());
        let auth_method = optional_string(&mut map, "tokenEndpointAuthMethod")?;
        let dpop = optional_bool(&mut map, "dpop")?;
        let key_storage = optional_string(&mut map, "deviceKeyStorage")?;
        let acr_values = acr_values(&mut map)?;
        let remember_sign_in = optional_bool(&mut map, "rememberSignIn")?;
        let user_agents = user_agents::user_agents(&mut map)?;
        let sign_in_origins = origins::sign_in_origins(&mut map)?;
        if let Some(key) = map.keys().next() {
            return Err(ConfigError::UnknownKey {
                key: crate::text::sanitize(key, 60),
                known: KNOWN_KEYS,
            });
        }

        let issuer = Issuer::parse(&issuer).or_else(|reason| invalid("issuer", reason))?;
        let redirect_uri =
            RedirectUri::parse(&redirect_uri).or_else(|reason| invalid("redirectUri", reason))?;
        let post_logout_redirect_uri = RedirectUri::parse(&post_logout)
            .or_else(|reason| invalid("postLogoutRedirectUri", reason))?;
        if !is_token_list(&scope) {
            return invalid(
                "scope",
                "use space-separated scope names, e.g. \"openid profile\"",
            );
        }
        if !scope.split(' ').any(|s| s == "openid") {
            return invalid(
                "scope",
                "the sign-in is OpenID Connect, so the scope must include \"openid\"",
            );
        }
        if !is_token_list(&dcr_scope) {
            return invalid("dcrScope", "use a scope name such as \"dcr\"");
        }
        if registration_client_id.trim().is_empty()
            || registration_client_id.chars().any(char::is_control)
        {
            return invalid(
                "registrationClientID",
                "use the static client's ID, e.g. \"mobile-dcr-client\"",
            );
        }
        if software_id.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return invalid(
                "softwareId",
                "remove it for full DCR, or name the template client",
            );
        }
        let token_endpoint_auth_method = match auth_method.as_deref() {
            None => TokenEndpointAuthMethod::default(),
            Some(m) => TokenEndpointAuthMethod::parse(m).ok_or_else(|| ConfigError::Invalid {
                key: "tokenEndpointAuthMethod",
                reason: "use \"client_secret_basic\" (the default), \"client_secret_post\" or \"private_key_jwt\" (a device key instead of a secret)"
                    .into(),
            })?,
        };
        let device_key_storage = match key_storage.as_deref() {
            None => DeviceKeyStorage::default(),
            Some(storage) => DeviceKeyStorage::parse(storage).ok_or_else(|| ConfigError::Invalid {
                key: "deviceKeyStorage",
                reason: "use \"software\" (the default: the key in the keychain entry), \"tpm\" (held by this computer's TPM, which never lets it out) or \"auto\" (the TPM when usable, else software)"
                    .into(),
            })?,
        };
        let user_agent = user_agents.first().copied();
        Ok(Self {
            issuer,
            registration_client_id,
            redirect_uri,
            post_logout_redirect_uri,
            scope,
            software_id,
            dcr_scope,
            token_endpoint_auth_method,
            dpop,
            device_key_storage,
            acr_values,
            remember_sign_in,
            user_agent,
            user_agents,
            sign_in_origins,
        })
    }

    /// Every origin the sign-in window may show: the issuer's (validated https, or http on
    /// loopback), then `signInOrigins`. The shell's navigation policy is exactly this list.
    pub fn allowed_sign_in_origins(&self) -> Vec<Origin> {
        let mut all = vec![self.issuer.url().origin()];
        for origin in &self.sign_in_origins {
            if !all.contains(origin) {
                all.push(origin.clone());
            }
        }
        all
    }
}

fn invalid<T>(key: &'static str, reason: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError::Invalid {
        key,
        reason: reason.into(),
    })
}

fn required(
    map: &mut Map<String, Value>,
    key: &'static str,
    example: &'static str,
) -> Result<String, ConfigError> {
    match optional_string(map, key)? {
        Some(value) => Ok(value),
        None => Err(ConfigError::Missing { key, example }),
    }
}

fn optional_string(
    map: &mut Map<String, Value>,
    key: &'static str,
) -> Result<Option<String>, ConfigError> {
    match map.remove(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => invalid(key, "use a string in double quotes"),
    }
}

/// An optional `true` / `false` (default false).
fn optional_bool(map: &mut Map<String, Value>, key: &'static str) -> Result<bool, ConfigError> {
    match map.remove(key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(_) => invalid(key, "use true or false (without quotes)"),
    }
}

/// `acrValues` may be a space-separated string or an array of strings.
fn acr_values(map: &mut Map<String, Value>) -> Result<Option<String>, ConfigError> {
    let joined = match map.remove("acrValues") {
        None => return Ok(None),
        Some(Value::String(s)) => s,
        Some(Value::Array(items)) => {
            let mut values = Vec::new();
            for item in items {
                match item {
                    Value::String(s) => values.push(s),
                    _ => return invalid("acrValues", "use strings, e.g. [\"urn:se:curity:authentication:html-form:Username-Password\"]"),
                }
            }
            values.join(" ")
        }
        Some(_) => return invalid("acrValues", "use a string or an array of strings"),
    };
    if !is_token_list(&joined) {
        return invalid(
            "acrValues",
            "use non-empty ACR names without quotes or control characters",
        );
    }
    Ok(Some(joined))
}

/// RFC 6749 §3.3 scope-token syntax: printable ASCII except `"` and `\`, single spaces.
fn is_token_list(value: &str) -> bool {
    !value.is_empty()
        && value.split(' ').all(|t| {
            !t.is_empty()
                && t.chars()
                    .all(|c| matches!(c, '\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'))
        })
}

#[cfg(test)]
mod tests;
