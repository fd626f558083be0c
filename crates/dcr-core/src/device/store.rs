//! Where the registration lives between runs: the OS keychain ([`KeychainStore`]), or memory in
//! tests ([`MemoryStore`]), behind one trait, as in keyring-rs.
//!
//! - One entry per [`StoreKey`]: issuer, registration client ID, redirect URI and software ID.
//!   A changed config therefore finds no entry and registers again; an old client secret is never
//!   sent to a new issuer (S6, RFC 9700 §4.4.2).
//! - No entry (`Ok(None)`) is the *unregistered* state, not a failure. A locked or missing
//!   keychain is a [`StoreError`] of its own, which must never lead to registering again, and
//!   there is never a plaintext fallback (S1, S2).
//! - The entry holds `{"version":1,"registeredAt":…,"deviceKey":…,"registration":<the whole
//!   registration response>}`. An entry that does not parse is [`StoreError::Corrupt`] (S3): the
//!   session discards it and registers again.
//! - `deviceKey` is this install's key, present when the registration authenticates with
//!   `private_key_jwt` or binds tokens with DPoP: a software key's private key, PKCS#8 in
//!   base64url (a JSON string), or a TPM-held key's TPM-wrapped blobs,
//!   `{"tpm":{"public":…,"private":…}}`, which only the TPM that made them can load (no private
//!   key leaves that TPM). It lives in the keychain entry and nowhere else (never a file, never
//!   a log). Entries written before it
//!   existed simply have none. A `private_key_jwt` registration without its key is
//!   [`StoreError::DeviceKeyMissing`]: a copy of the entry taken to another device without the
//!   private half, which can prove nothing and is discarded like a corrupt one.
//! - `refreshToken` (`rememberSignIn: true`): the signed-in user's refresh token, and
//!   no other token. It lives in the same entry as the registration it was issued to, so it is
//!   bound to that client by construction: it is written and read under the same cross-process
//!   lock, and every wipe of the registration (forget, revocation, a corrupt entry) takes it
//!   along. Never a file. Entries without it (the default, `rememberSignIn: false`) have none.
//! - S4: Windows Credential Manager holds at most 2560 bytes per entry. The limit is enforced on
//!   every platform, so CI on Linux catches what would fail on Windows. A response that does not
//!   fit is stored reduced to the fields the engine uses ([`ESSENTIAL_FIELDS`]); if even that
//!   does not fit, saving fails cleanly with [`StoreError::TooLarge`].

use std::sync::Arc;

use ring::digest::{digest, SHA256};
use serde_json::{Map, Value};

use crate::config::TokenEndpointAuthMethod;
use crate::device::key::DeviceKey;
pub use crate::error::StoreError;

use crate::protocol::registration::{parse_registration, ClientRegistration, WipeOnDrop};
use crate::Secret;

mod keychain;
mod memory;
#[cfg(test)]
mod tests;

pub use keychain::KeychainStore;
pub use memory::MemoryStore;

/// The keychain "service" of every entry: the app's identifier (`tauri.conf.json`).
pub const KEYCHAIN_SERVICE: &str = "io.curity.dcrclient";
/// CRED_MAX_CREDENTIAL_BLOB_SIZE, the Windows limit, applied everywhere (S4).
pub const MAX_ENTRY_BYTES: usize = 2560;
/// The registration-response fields kept when the whole response does not fit (S4).
pub const ESSENTIAL_FIELDS: [&str; 12] = [
    "client_id",
    "client_secret",
    "client_secret_expires_at",
    "client_id_issued_at",
    "token_endpoint_auth_method",
    "registration_access_token",
    "registration_client_uri",
    "redirect_uris",
    "post_logout_redirect_uris",
    "grant_types",
    "scope",
    "software_id",
];
const FORMAT_VERSION: i64 = 1;

/// Persists the registration. Implementations block (the OS keychain may even show an unlock
/// prompt), so async callers use `spawn_blocking`.
pub trait RegistrationStore: Send + Sync {
    /// `Ok(None)` means no registration: the unregistered state.
    fn load(&self, key: &StoreKey) -> Result<Option<StoredRegistration>, StoreError>;
    /// Creates or replaces the entry.
    fn save(&self, key: &StoreKey, value: &StoredRegistration) -> Result<(), StoreError>;
    /// Deleting an entry that does not exist succeeds.
    fn delete(&self, key: &StoreKey) -> Result<(), StoreError>;
}

/// A store shared with its owner: a session takes `Box::new(store.clone())` while the caller
/// keeps the same store (a shell's diagnostics, a test reading what the session wrote).
impl<S: RegistrationStore + ?Sized> RegistrationStore for Arc<S> {
    fn load(&self, key: &StoreKey) -> Result<Option<StoredRegistration>, StoreError> {
        (**self).load(key)
    }
    fn save(&self, key: &StoreKey, value: &StoredRegistration) -> Result<(), StoreError> {
        (**self).save(key, value)
    }
    fn delete(&self, key: &StoreKey) -> Result<(), StoreError> {
        (**self).delete(key)
    }
}

/// A registration and when it was stored.
#[derive(Debug, Clone)]
pub struct StoredRegistration {
    pub registration: ClientRegistration,
    /// Seconds since the Unix epoch.
    pub registered_at: i64,
    /// This install's key pair: the `private_key_jwt` key, the DPoP key, or both.
    /// `Debug` shows its thumbprint only.
    pub device_key: Option<Arc<DeviceKey>>,
    /// `rememberSignIn: true` only: the refresh token of the user signed in with this
    /// registration. `Debug` redacts it.
    pub refresh_token: Option<Secret>,
}

/// Which entry: everything that, if changed, must not reuse an old registration (S6).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreKey {
    issuer: String,
    registration_client_id: String,
    redirect_uri: String,
    software_id: Option<String>,
    /// The user-agent mode, when the redirect alone does not tell it (`system` shares the
    /// private-use redirect with `embedded`). `None` adds nothing to the fingerprint,
    /// so entries written before modes were a choice keep their keys.
    mode: Option<String>,
}

impl StoreKey {
    pub fn new(
        issuer: &str,
        registration_client_id: &str,
        redirect_uri: &str,
        software_id: Option<&str>,
    ) -> Self {
        Self {
            issuer: issuer.to_owned(),
            registration_client_id: registration_client_id.to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            software_id: software_id.map(str::to_owned),
            mode: None,
        }
    }

    /// The same key for a registration made in `mode` (see [`crate::Config::store_mode`]): a
    /// different entry, so a mode switch registers again and each mode finds its own client.
    pub fn for_mode(mut self, mode: Option<&str>) -> Self {
        self.mode = mode.map(str::to_owned);
        self
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn registration_client_id(&self) -> &str {
        &self.registration_client_id
    }

    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    pub fn software_id(&self) -> Option<&str> {
        self.software_id.as_deref()
    }

    /// The keychain service: the same for every entry of this app.
    pub fn service(&self) -> &'static str {
        KEYCHAIN_SERVICE
    }

    /// The keychain user: a readable prefix and a SHA-256 of all four parts, e.g.
    /// `mobile-dcr-client@127.0.0.1:8443#3f1c…` (32 hex digits). The parts are length-prefixed
    /// before hashing, so no two different keys can collide by shifting text between parts.
    pub fn user(&self) -> String {
        let hash = self.fingerprint();
        let host = url::Url::parse(&self.issuer)
            .ok()
            .and_then(|url| {
                url.host_str().map(|host| match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                })
            })
            .unwrap_or_else(|| "issuer".to_owned());
        format!(
            "{}@{}#{hash}",
            readable(&self.registration_client_id),
            readable(&host)
        )
    }

    /// 32 hex digits of a SHA-256 over all four parts, length-prefixed so no two different keys
    /// collide by shifting text between parts. Names this entry's lock file too.
    pub fn fingerprint(&self) -> String {
        let mut input = b"dcr-desktop store key v1".to_vec();
        for part in [
            Some(&self.issuer),
            Some(&self.registration_client_id),
            Some(&self.redirect_uri),
        ]
        .into_iter()
        .chain([self.software_id.as_ref()])
        {
            crate::text::push_field(&mut input, part.map(String::as_str));
        }
        // Only a named mode adds bytes (tagged 2), so keys without one are unchanged.
        if let Some(mode) = &self.mode {
            input.push(2);
            input.extend_from_slice(&(mode.len() as u64).to_be_bytes());
            input.extend_from_slice(mode.as_bytes());
        }
        digest(&SHA256, &input).as_ref()[..16]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// What a keychain viewer shows (Secret Service only).
    pub fn label(&self) -> String {
        format!("DCR client registration for {}", readable(&self.issuer))
    }
}

/// Printable ASCII without spaces, at most 64 characters: safe as a keychain name everywhere.
fn readable(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect()
}

/// The entry's bytes: the whole registration response, or its essential fields when the whole
/// one does not fit (S4).
pub(crate) fn encode(value: &StoredRegistration) -> Result<Secret, StoreError> {
    let response = value.registration.response_json.expose();
    let mut document = WipeOnDrop(serde_json::from_str(response).map_err(|_| StoreError::Corrupt)?);
    let Value::Object(map) = &mut document.0 else {
        return Err(StoreError::Corrupt);
    };
    let key = value.device_key.as_deref().map(DeviceKey::stored_form);
    let key = key.as_ref();
    let refresh = value.refresh_token.as_ref();
    let whole = wrap(value.registered_at, key, refresh, response);
    if whole.expose().len() <= MAX_ENTRY_BYTES {
        return Ok(whole);
    }
    let essentials: Map<String, Value> = ESSENTIAL_FIELDS
        .iter()
        .filter_map(|name| map.remove(*name).map(|v| ((*name).to_owned(), v)))
        .collect();
    let essentials = WipeOnDrop(Value::Object(essentials));
    let reduced = Secret::new(essentials.0.to_string());
    let reduced = wrap(value.registered_at, key, refresh, reduced.expose());
    let bytes = reduced.expose().len();
    if bytes > MAX_ENTRY_BYTES {
        return Err(StoreError::TooLarge {
            bytes,
            limit: MAX_ENTRY_BYTES,
        });
    }
    tracing::warn!(
        whole = whole.expose().len(),
        reduced = bytes,
        "the registration response is too large for a keychain entry; storing its essential fields"
    );
    Ok(reduced)
}

/// Reads an entry back. Everything is checked again, with the key's redirect URI: the keychain
/// is outside our control, so its content is as untrusted as a server response (S3).
pub(crate) fn decode(key: &StoreKey, raw: &Secret) -> Result<StoredRegistration, StoreError> {
    let corrupt = |reason: &'static str| {
        // The reason is fixed text; the entry's content (secrets) is never logged.
        tracing::warn!(reason, "discarding an unreadable keychain entry");
        StoreError::Corrupt
    };
    let document = WipeOnDrop(serde_json::from_str(raw.expose()).map_err(|_| corrupt("not JSON"))?);
    let Value::Object(map) = &document.0 else {
        return Err(corrupt("not a JSON object"));
    };
    if map.get("version").and_then(Value::as_i64) != Some(FORMAT_VERSION) {
        return Err(corrupt("unknown format version"));
    }
    let registered_at = map
        .get("registeredAt")
        .and_then(Value::as_i64)
        .ok_or_else(|| corrupt("no registeredAt"))?;
    let response = map
        .get("registration")
        .ok_or_else(|| corrupt("no registration"))?;
    let device_key = match map.get("deviceKey") {
        None | Some(Value::Null) => None,
        Some(Value::String(pkcs8)) => Some(Arc::new(
            DeviceKey::from_pkcs8(Secret::new(pkcs8.as_str()))
                .map_err(|_| corrupt("the device key is unreadable"))?,
        )),
        Some(Value::Object(held)) if held.len() == 1 && held.contains_key("tpm") => {
            Some(Arc::new(tpm_key(&held["tpm"]).map_err(|_| {
                corrupt("the TPM key's blobs are unreadable")
            })?))
        }
        Some(_) => return Err(corrupt("the device key is neither PKCS#8 nor TPM blobs")),
    };
    let refresh_token = match map.get("refreshToken") {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) if !token.is_empty() => Some(Secret::new(token.as_str())),
        Some(_) => return Err(corrupt("the refresh token is not a string")),
    };
    let json = Secret::new(response.to_string());
    let registration = parse_registration(json, Some(key.redirect_uri()))
        .map_err(|_| corrupt("the registration does not pass the response checks"))?;
    // K5: without its private key a private_key_jwt client cannot authenticate at all.
    if registration.token_endpoint_auth_method == TokenEndpointAuthMethod::PrivateKeyJwt
        && device_key.is_none()
    {
        tracing::warn!("the keychain entry's registration needs a device key it does not hold");
        return Err(StoreError::DeviceKeyMissing);
    }
    Ok(StoredRegistration {
        registration,
        registered_at,
        device_key,
        refresh_token,
    })
}

/// A TPM-held key from its stored blobs. Loading it into the TPM waits for the first signature:
/// reading the entry must work (and show the registration) even while the TPM does not.
#[cfg(target_os = "linux")]
fn tpm_key(member: &Value) -> Result<DeviceKey, crate::error::DeviceKeyError> {
    let key = super::tpm::TpmKey::from_stored(member)?;
    Ok(DeviceKey::from_signer(Box::new(key)))
}

#[cfg(not(target_os = "linux"))]
fn tpm_key(_: &Value) -> Result<DeviceKey, crate::error::DeviceKeyError> {
    Err(crate::error::DeviceKeyError::TpmUnsupported)
}

fn wrap(
    registered_at: i64,
    device_key: Option<&Secret>,
    refresh_token: Option<&Secret>,
    response: &str,
) -> Secret {
    let head = format!("{{\"version\":{FORMAT_VERSION},\"registeredAt\":{registered_at},");
    // The key's stored form is already JSON (a string, or an object of base64url strings).
    let (key_head, key, key_tail) = match device_key {
        Some(key) => ("\"deviceKey\":", key.expose(), ","),
        None => ("", "", ""),
    };
    // A refresh token is an opaque string from the server: escaped as JSON (RFC 8259 §7).
    let refresh = refresh_token.map(|token| {
        let value = WipeOnDrop(Value::String(token.expose().to_owned()));
        Secret::new(value.0.to_string())
    });
    let (refresh_head, refresh_value, refresh_tail) = match &refresh {
        Some(token) => ("\"refreshToken\":", token.expose(), ","),
        None => ("", "", ""),
    };
    let registration_head = "\"registration\":";
    let parts = [
        head.as_str(),
        key_head,
        key,
        key_tail,
        refresh_head,
        refresh_value,
        refresh_tail,
        registration_head,
        response,
        "}",
    ];
    // Built at its final size so no partial copy of a secret is left in a freed buffer.
    let mut text = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        text.push_str(part);
    }
    Secret::new(text)
}
