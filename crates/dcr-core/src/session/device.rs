//! The device key in the session: how the per-install client proves itself at the token
//! endpoint (its secret, or a `private_key_jwt` assertion signed with the device key, RFC 7523),
//! and DPoP proofs (RFC 9449) on the token endpoint and UserInfo, with each server's nonce (§8,
//! §9) kept for its next request and `use_dpop_nonce` answered with exactly one retry.

use tracing::info;
use url::Url;

use super::{now, Session};
use crate::config::TokenEndpointAuthMethod;
use crate::device::key::DeviceKey;
use crate::device::store::{StoreError, StoredRegistration};
use crate::error::{Error, OAuthError, RegistrationError, TokenError};
use crate::platform::http::{CappedResponse, OutgoingRequest, SendError};
use crate::protocol::token::ClientAuth;
use crate::protocol::userinfo::{dpop_challenge, prepare_userinfo, prepare_userinfo_dpop};
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

/// The server a DPoP nonce comes from and goes back to. RFC 9449 §8 (the authorization
/// server, here its token endpoint) and §9 (a resource server, here UserInfo): each issues its
/// own nonces, and a nonce is accepted only by the server that issued it, even when both share
/// an origin. Proofs for one never carry the other's.
#[derive(Debug, Clone, Copy)]
pub(super) enum NonceServer {
    TokenEndpoint,
    UserInfo,
}

/// The latest `DPoP-Nonce` of each [`NonceServer`], for its next proof.
#[derive(Debug, Default)]
pub(super) struct DpopNonces {
    token_endpoint: Option<String>,
    userinfo: Option<String>,
}

impl DpopNonces {
    fn of(&mut self, server: NonceServer) -> &mut Option<String> {
        match server {
            NonceServer::TokenEndpoint => &mut self.token_endpoint,
            NonceServer::UserInfo => &mut self.userinfo,
        }
    }
}

impl Session {
    /// The key that binds this sign-in's tokens: with `dpop` configured, the stored device key.
    /// A registration made before `dpop` was turned on has no key, and its tokens stay Bearer
    /// until the device is registered again.
    pub(super) fn dpop_key<'a>(&self, stored: &'a StoredRegistration) -> Option<&'a DeviceKey> {
        self.config
            .dpop
            .then_some(stored.device_key.as_deref())
            .flatten()
    }

    /// Keeps `server`'s latest `DPoP-Nonce` (RFC 9449 §8.2: it may send a new one with any
    /// response). True when this response carried one.
    async fn remember_nonce(&self, server: NonceServer, response: &CappedResponse) -> bool {
        match &response.dpop_nonce {
            Some(nonce) => {
                *self.inner.lock().await.dpop_nonces.of(server) = Some(nonce.clone());
                true
            }
            None => false,
        }
    }

    async fn nonce(&self, server: NonceServer) -> Option<String> {
        self.inner.lock().await.dpop_nonces.of(server).clone()
    }

    /// Sends a token-endpoint request that `build` makes for a given time (a fresh client
    /// assertion each time), with a DPoP proof when `dpop` is set. When the server answers
    /// `use_dpop_nonce` with a nonce (RFC 9449 §8), the request is built and sent exactly once
    /// more with it; a second `use_dpop_nonce` is returned as the error it is.
    pub(super) async fn send_token_request(
        &self,
        dpop: Option<&DeviceKey>,
        build: impl Fn(i64) -> OutgoingRequest,
    ) -> Result<CappedResponse, TokenError> {
        let mut retried = false;
        loop {
            let now = now();
            let mut request = build(now);
            if let Some(key) = dpop {
                let nonce = self.nonce(NonceServer::TokenEndpoint).await;
                request.dpop =
                    Some(key.dpop_proof("POST", &request.url, now, None, nonce.as_deref()));
            }
            let response = self.send(request).await.map_err(TokenError::Transport)?;
            let fresh_nonce = self
                .remember_nonce(NonceServer::TokenEndpoint, &response)
                .await;
            let wants_nonce = response.status == 400
                && OAuthError::from_json(&response.body).is_some_and(|e| e.is("use_dpop_nonce"));
            if dpop.is_some() && wants_nonce && fresh_nonce && !retried {
                retried = true;
                info!("the token endpoint asked for a DPoP nonce; sending the request once more with it");
                continue;
            }
            return Ok(response);
        }
    }

    /// UserInfo with the access token: Bearer, or DPoP with a proof carrying `ath` (RFC 9449
    /// §7.1) and one retry when the server asks for a nonce (`WWW-Authenticate`, §8).
    pub(super) async fn send_userinfo(
        &self,
        endpoint: &Url,
        access_token: &Secret,
        dpop: Option<&DeviceKey>,
    ) -> Result<CappedResponse, SendError> {
        let Some(key) = dpop else {
            return self.send(prepare_userinfo(endpoint, access_token)).await;
        };
        let mut retried = false;
        loop {
            let nonce = self.nonce(NonceServer::UserInfo).await;
            let proof =
                key.dpop_proof("GET", endpoint, now(), Some(access_token), nonce.as_deref());
            let response = self
                .send(prepare_userinfo_dpop(endpoint, access_token, proof))
                .await?;
            let fresh_nonce = self.remember_nonce(NonceServer::UserInfo, &response).await;
            if dpop_challenge(&response, "use_dpop_nonce") && fresh_nonce && !retried {
                retried = true;
                info!("UserInfo asked for a DPoP nonce; sending the request once more with it");
                continue;
            }
            return Ok(response);
        }
    }
}
