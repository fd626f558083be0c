//! This install's registration as one type: the user-agent mode it was made in and what that
//! mode fixes ([`Binding`]: the registered redirect URIs and the keychain entry), the
//! credential the server issued ([`StoredRegistration`]), and its [`Generation`].
//!
//! - A registration is bound to its mode. Loopback registers `http://127.0.0.1/<path>` (RFC 8252
//!   §7.3), so it is a different client with a different keychain entry; `system` shares the
//!   private-use redirect with `embedded` and is told apart by the entry's key. A mode switch is
//!   therefore a new registration, never a reuse of another mode's client.
//! - Every RFC 7592 answer about the client is checked against the redirect URIs it was
//!   registered with ([`Binding::redirect_uri`]), never the configured one: in loopback mode they
//!   differ, and checking the wrong one turned every read into "cannot tell".
//! - [`find`] is the one rule for which registration is this install's: over the config's
//!   allowed modes in the config's order, the first whose keychain entry holds one.
//! - The [`Generation`] changes whenever the server rotates a credential (client secret,
//!   registration access token, device key; RFC 7592 §3). The keychain entry is shared with
//!   this user's other processes, so writes and wipes compare it: an entry whose generation is
//!   not the one this process read is another process's newer one, and is left alone.

use ring::digest::{digest, SHA256};

use crate::config::{Config, RedirectUri, UserAgentKind};
use crate::device::key::DeviceKey;
use crate::device::store::{RegistrationStore, StoreError, StoreKey, StoredRegistration};

/// What a user-agent mode fixes for a registration made in it: the redirect URIs it registers
/// and the keychain entry it lives in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    mode: UserAgentKind,
    redirect_uri: RedirectUri,
    post_logout_redirect_uri: RedirectUri,
    key: StoreKey,
}

impl Binding {
    /// A registration made in `mode` under `config`.
    pub fn new(config: &Config, mode: UserAgentKind) -> Self {
        let redirect_uri = config.redirect_uri_in(mode);
        // S6: the entry is bound to this issuer, static client, registered redirect and software
        // id, so a changed config never sends an old secret to a new issuer (RFC 9700 §4.4.2).
        let key = StoreKey::new(
            config.issuer.as_str(),
            &config.registration_client_id,
            redirect_uri.as_str(),
            config.software_id.as_deref(),
        )
        .for_mode(mode.store_tag());
        Self {
            mode,
            post_logout_redirect_uri: config.post_logout_redirect_uri_in(mode),
            redirect_uri,
            key,
        }
    }

    /// The binding of `config`'s own mode ([`Config::active_user_agent`]).
    pub fn of(config: &Config) -> Self {
        Self::new(config, config.active_user_agent())
    }

    pub fn mode(&self) -> UserAgentKind {
        self.mode
    }

    /// The redirect URI registered in this mode; a browser step's redirect is prepared from it
    /// ([`crate::UserAgent::prepare_redirect`]).
    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.redirect_uri
    }

    pub fn post_logout_redirect_uri(&self) -> &RedirectUri {
        &self.post_logout_redirect_uri
    }

    /// The keychain entry of a registration made in this mode.
    pub fn key(&self) -> &StoreKey {
        &self.key
    }
}

/// This install's registration: made in one mode, with what the server issued.
#[derive(Debug, Clone)]
pub struct Registration {
    binding: Binding,
    stored: StoredRegistration,
}

impl Registration {
    pub fn new(binding: Binding, stored: StoredRegistration) -> Self {
        Self { binding, stored }
    }

    pub fn binding(&self) -> &Binding {
        &self.binding
    }

    /// The user-agent mode it was made in.
    pub fn mode(&self) -> UserAgentKind {
        self.binding.mode
    }

    pub fn redirect_uri(&self) -> &RedirectUri {
        &self.binding.redirect_uri
    }

    pub fn post_logout_redirect_uri(&self) -> &RedirectUri {
        &self.binding.post_logout_redirect_uri
    }

    /// Its keychain entry.
    pub fn key(&self) -> &StoreKey {
        &self.binding.key
    }

    pub fn client_id(&self) -> &str {
        &self.stored.registration.client_id
    }

    /// Its credential: the client secret, or the device key (`private_key_jwt`), with the
    /// registration response and the management handle.
    pub fn stored(&self) -> &StoredRegistration {
        &self.stored
    }

    pub fn generation(&self) -> Generation {
        Generation::of(&self.stored)
    }
}

/// Which credentials a stored registration holds: a digest over the client id, the client
/// secret, the registration access token, the management endpoint and the device key's
/// thumbprint. Computed, never stored. The remembered refresh token is not part of it: it is the
/// user's, not the client's, and survives a credential rotation (RFC 7592 §2.2).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Generation([u8; 16]);

impl Generation {
    pub fn of(stored: &StoredRegistration) -> Self {
        let registration = &stored.registration;
        let parts = [
            Some(registration.client_id.as_str()),
            registration.client_secret.as_ref().map(|s| s.expose()),
            registration
                .registration_access_token
                .as_ref()
                .map(|s| s.expose()),
            registration
                .registration_client_uri
                .as_ref()
                .map(|u| u.as_str()),
            stored.device_key.as_deref().map(DeviceKey::thumbprint),
        ];
        // Length-prefixed, so no two different sets of credentials can give the same input.
        let mut input = b"dcr-desktop registration generation v1".to_vec();
        for part in parts {
            crate::text::push_field(&mut input, part);
        }
        let mut generation = [0; 16];
        generation.copy_from_slice(&digest(&SHA256, &input).as_ref()[..16]);
        // The input holds secrets: it is not left in freed memory.
        zeroize::Zeroize::zeroize(&mut input);
        Self(generation)
    }
}

/// A digest of secrets, so never printed.
impl std::fmt::Debug for Generation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Generation(…)")
    }
}

/// This install's registration: over `config`'s allowed modes in the config's order, the first
/// whose keychain entry holds one; `None` when no mode's does (the install is unregistered, and
/// registers in the config's default mode or the one the user chooses).
///
/// An unusable entry (S3, K5) holds none: the session that opens it discards it. A locked or
/// unavailable keychain is an error, never "unregistered" (S2). Blocks, like the store.
pub fn find(
    config: &Config,
    store: &dyn RegistrationStore,
) -> Result<Option<Registration>, StoreError> {
    for mode in config.allowed_user_agents() {
        let binding = Binding::new(config, mode);
        match store.load(binding.key()) {
            Ok(Some(stored)) => return Ok(Some(Registration::new(binding, stored))),
            Ok(None) => {}
            Err(error) if error.is_unusable_entry() => {}
            Err(error) => return Err(error),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests;
