//! How the per-install client proves itself at the token endpoint: its secret, or a
//! `private_key_jwt` assertion signed with the device key (RFC 7523), and which key binds its
//! tokens with DPoP (RFC 9449). The proofs themselves are sent by `server.rs`.

use crate::config::{Config, TokenEndpointAuthMethod};
use crate::device::key::DeviceKey;
use crate::device::store::{StoreError, StoredRegistration};
use crate::error::{Error, RegistrationError};
use crate::protocol::token::ClientAuth;
use crate::Secret;

/// What the per-install client authenticates with, checked once before any request is built.
#[derive(Clone, Copy)]
pub(super) enum Credentials<'a> {
    Secret {
        method: TokenEndpointAuthMethod,
        client_id: &'a str,
        secret: &'a Secret,
    },
    Key {
        client_id: &'a str,
        key: &'a DeviceKey,
    },
}

impl<'a> Credentials<'a> {
    /// The registration's credentials. A secret method without a secret is a broken entry; a
    /// `private_key_jwt` registration without its key (K5) is a copy from another device, which
    /// the keychain already refuses to load, so this only guards the invariant.
    pub(super) fn of(stored: &'a StoredRegistration) -> Result<Self, Error> {
        let registration = &stored.registration;
        let client_id = registration.client_id.as_str();
        match registration.token_endpoint_auth_method {
            TokenEndpointAuthMethod::PrivateKeyJwt => stored
                .device_key
                .as_deref()
                .map(|key| Self::Key { client_id, key })
                .ok_or(Error::Store(StoreError::DeviceKeyMissing)),
            method => registration
                .client_secret
                .as_ref()
                .map(|secret| Self::Secret {
                    method,
                    client_id,
                    secret,
                })
                .ok_or(Error::Registration(RegistrationError::MissingField(
                    "client_secret",
                ))),
        }
    }

    /// The authentication for one request at `now`. RFC 7523 §3: the assertion's `aud` is the
    /// issuer identifier (OIDC Core §9 also allows the token endpoint; oidc-provider and Curity
    /// accept the issuer), and every request gets a fresh `jti`.
    pub(super) fn auth(&self, audience: &'a str, now: i64) -> ClientAuth<'a> {
        match *self {
            Self::Secret {
                method,
                client_id,
                secret,
            } => ClientAuth::for_secret_method(method, client_id, secret).unwrap_or(
                // `of` never builds Secret with private_key_jwt; Basic is the RFC 7591 default.
                ClientAuth::Basic { client_id, secret },
            ),
            Self::Key { client_id, key } => ClientAuth::PrivateKeyJwt {
                client_id,
                key,
                audience,
                now,
            },
        }
    }
}

/// The key that binds this sign-in's tokens: with `dpop` configured, the stored device key.
/// A registration made before `dpop` was turned on has no key, and its tokens stay Bearer
/// until the device is registered again.
pub(super) fn dpop_key<'a>(
    config: &Config,
    stored: &'a StoredRegistration,
) -> Option<&'a DeviceKey> {
    config
        .dpop
        .then_some(stored.device_key.as_deref())
        .flatten()
}
