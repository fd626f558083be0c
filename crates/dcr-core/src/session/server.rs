//! The identity server as this session knows it: the back channel, the discovery document
//! (read once, and cached only when it validated, D1), the key set behind ID-token checks
//! (D6), and each server's latest DPoP nonce (RFC 9449 §8, §9).
//!
//! Everything held here is a cache of what the server said, not session state: it has a lock of
//! its own, and the other components (registering, signing in, tokens) use it without touching
//! the state machine's.
//!
//! The key set is fetched when first needed and cached with the time. An unknown `kid` causes one
//! more fetch, at most once per interval (`key_refetch_secs`), so a key rotation costs one
//! fetch and a flood of invented key ids cannot become a flood of fetches. A failed fetch is
//! retried once after a short backoff; a 404 re-reads discovery first, since `jwks_uri` may
//! have moved. When the keys still cannot be had, the result is
//! [`IdTokenError::KeysUnavailable`]: the token was not checked, rather than found bad, so the
//! caller keeps what it has and may try again.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use tokio::sync::Mutex;
use tracing::{info, warn};
use url::Url;

use super::client_management;
use super::now;
use crate::config::Issuer;
use crate::device::key::DeviceKey;
use crate::error::{DiscoveryError, Error, IdTokenError, OAuthError, TokenError, UserInfoError};
use crate::platform::http::{CappedResponse, OutgoingRequest, SendError, Transport};
use crate::protocol::discovery::{discovery_response, prepare_discovery, ProviderMetadata};
use crate::protocol::id_token::{
    jwks_response, prepare_jwks, refetch_due, verify_id_token, IdToken, IdTokenExpectations, Jwks,
    JWKS_MIN_REFETCH_SECS, JWKS_RETRY_BACKOFF,
};
use crate::protocol::userinfo::{
    dpop_challenge, prepare_userinfo, prepare_userinfo_dpop, userinfo_response,
};
use crate::Secret;

/// The back channel to one identity server, with what this session has learnt from it.
pub(super) struct IdentityServer {
    http: Arc<dyn Transport>,
    issuer: Issuer,
    learnt: Mutex<Learnt>,
    /// D6: the least time (seconds) between two key-set fetches for an unknown `kid`.
    key_refetch_secs: AtomicI64,
}

#[derive(Default)]
struct Learnt {
    /// Discovery, once per session.
    metadata: Option<Arc<ProviderMetadata>>,
    /// The key set and when it was fetched (D6).
    jwks: Option<(Arc<Jwks>, i64)>,
    /// The token endpoint's and UserInfo's latest `DPoP-Nonce` (RFC 9449 §8, §9).
    dpop_nonces: DpopNonces,
}

/// The server a DPoP nonce comes from and goes back to. RFC 9449 §8 (the authorization
/// server, here its token endpoint) and §9 (a resource server, here UserInfo): each issues its
/// own nonces, and a nonce is accepted only by the server that issued it, even when both share
/// an origin. Proofs for one never carry the other's.
#[derive(Debug, Clone, Copy)]
enum NonceServer {
    TokenEndpoint,
    UserInfo,
}

/// The latest `DPoP-Nonce` of each [`NonceServer`], for its next proof.
#[derive(Debug, Default)]
struct DpopNonces {
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

impl IdentityServer {
    pub(super) fn new(http: Arc<dyn Transport>, issuer: Issuer) -> Self {
        Self {
            http,
            issuer,
            learnt: Mutex::new(Learnt::default()),
            key_refetch_secs: AtomicI64::new(JWKS_MIN_REFETCH_SECS),
        }
    }

    /// The back channel, for the RFC 7592 calls (`client_management.rs`).
    pub(super) fn http(&self) -> &Arc<dyn Transport> {
        &self.http
    }

    pub(super) fn key_refetch_secs(&self) -> i64 {
        self.key_refetch_secs.load(Ordering::Relaxed)
    }

    pub(super) fn set_key_refetch_secs(&self, secs: i64) {
        self.key_refetch_secs.store(secs, Ordering::Relaxed);
    }

    pub(super) async fn send(&self, request: OutgoingRequest) -> Result<CappedResponse, SendError> {
        client_management::send(self.http.as_ref(), request).await
    }

    /// Discovery, fetched once per session (and cached only when it validated, D1).
    pub(super) async fn metadata(&self) -> Result<Arc<ProviderMetadata>, Error> {
        if let Some(metadata) = self.learnt.lock().await.metadata.clone() {
            return Ok(metadata);
        }
        self.rediscover().await
    }

    /// Reads discovery again and replaces the cached metadata once the new document validated
    /// (D1). Also used when `jwks_uri` answers 404: the key set may have moved (D6).
    async fn rediscover(&self) -> Result<Arc<ProviderMetadata>, Error> {
        let response = self
            .send(prepare_discovery(&self.issuer))
            .await
            .map_err(DiscoveryError::Transport)?;
        let metadata = Arc::new(discovery_response(response, &self.issuer)?);
        self.learnt.lock().await.metadata = Some(metadata.clone());
        Ok(metadata)
    }

    /// Verifies an ID token, fetching the key set when none is cached, and once more on an
    /// unknown `kid` when the cached set is at least `key_refetch_secs` old (D6: a key rotation
    /// costs one fetch, a flood of invented key ids at most one per interval).
    ///
    /// A key set that cannot be had, or a `kid` still unknown after a fetch (or within the
    /// interval), is [`IdTokenError::KeysUnavailable`]: the token was not checked, not found
    /// bad, and the caller may keep what it has and try again later.
    pub(super) async fn verify(
        &self,
        raw: &Secret,
        metadata: &ProviderMetadata,
        expect: &IdTokenExpectations<'_>,
    ) -> Result<IdToken, Error> {
        let cached = self.learnt.lock().await.jwks.clone();
        let (jwks, refetch) = match cached {
            Some((jwks, at)) => {
                let interval = self.key_refetch_secs();
                (jwks, refetch_due(at, now(), interval))
            }
            None => (self.fetch_jwks(metadata).await?, false),
        };
        let result = match verify_id_token(raw, &jwks, expect) {
            Err(IdTokenError::UnknownKey) if refetch => {
                info!("unknown signing key; fetching the key set again");
                let jwks = self.fetch_jwks(metadata).await?;
                verify_id_token(raw, &jwks, expect)
            }
            result => result,
        };
        match result {
            Err(IdTokenError::UnknownKey) => {
                warn!("the ID token names a key the key set does not have (yet)");
                Err(keys_unavailable(IdTokenError::UnknownKey))
            }
            result => Ok(result?),
        }
    }

    /// Fetches the key set and caches it with the time. A failure (network, error status, not
    /// a key set) is retried once after [`JWKS_RETRY_BACKOFF`]; a 404 first re-reads discovery
    /// once, since `jwks_uri` may have moved, and fetches from the new one (D6).
    async fn fetch_jwks(&self, metadata: &ProviderMetadata) -> Result<Arc<Jwks>, Error> {
        let mut jwks_uri = metadata.jwks_uri.clone();
        let (mut rediscovered, mut retried) = (false, false);
        loop {
            let result = match self.send(prepare_jwks(&jwks_uri)).await {
                Ok(response) => jwks_response(response),
                Err(error) => Err(IdTokenError::Transport(error)),
            };
            match result {
                Ok(jwks) => {
                    let jwks = Arc::new(jwks);
                    self.learnt.lock().await.jwks = Some((jwks.clone(), now()));
                    return Ok(jwks);
                }
                Err(IdTokenError::JwksStatus(404)) if !rediscovered => {
                    rediscovered = true;
                    info!("the key set answered 404; reading discovery again");
                    match self.rediscover().await {
                        Ok(fresh) => jwks_uri = fresh.jwks_uri.clone(),
                        Err(error) => {
                            warn!(kind = %error.kind(), "discovery could not be read again");
                            return Err(keys_unavailable(IdTokenError::JwksStatus(404)));
                        }
                    }
                }
                Err(error) if !retried => {
                    retried = true;
                    warn!(%error, "fetching the key set failed; trying once more");
                    tokio::time::sleep(JWKS_RETRY_BACKOFF).await;
                }
                Err(error) => return Err(keys_unavailable(error)),
            }
        }
    }
    /// Keeps `server`'s latest `DPoP-Nonce` (RFC 9449 §8.2: it may send a new one with any
    /// response). True when this response carried one.
    async fn remember_nonce(&self, server: NonceServer, response: &CappedResponse) -> bool {
        match &response.dpop_nonce {
            Some(nonce) => {
                *self.learnt.lock().await.dpop_nonces.of(server) = Some(nonce.clone());
                true
            }
            None => false,
        }
    }

    async fn nonce(&self, server: NonceServer) -> Option<String> {
        self.learnt.lock().await.dpop_nonces.of(server).clone()
    }

    /// Sends a token-endpoint request that `build` makes for a given time (a fresh client
    /// assertion each time), with a DPoP proof when `dpop` is set. When the server answers
    /// `use_dpop_nonce` with a nonce (RFC 9449 §8), the request is built and sent exactly once
    /// more with it; a second `use_dpop_nonce` is returned as the error it is.
    pub(super) async fn send_token_request(
        &self,
        dpop: Option<&DeviceKey>,
        build: impl Fn(i64) -> Result<OutgoingRequest, TokenError>,
    ) -> Result<CappedResponse, TokenError> {
        let mut retried = false;
        loop {
            let now = now();
            let mut request = build(now)?;
            if let Some(key) = dpop {
                let nonce = self.nonce(NonceServer::TokenEndpoint).await;
                let proof = key
                    .dpop_proof("POST", &request.url, now, None, nonce.as_deref())
                    .map_err(TokenError::DeviceKey)?;
                request.dpop = Some(proof);
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
    ) -> Result<CappedResponse, Error> {
        let transport = |error| Error::UserInfo(UserInfoError::Transport(error));
        let Some(key) = dpop else {
            return self
                .send(prepare_userinfo(endpoint, access_token))
                .await
                .map_err(transport);
        };
        let mut retried = false;
        loop {
            let nonce = self.nonce(NonceServer::UserInfo).await;
            let proof =
                key.dpop_proof("GET", endpoint, now(), Some(access_token), nonce.as_deref())?;
            let response = self
                .send(prepare_userinfo_dpop(endpoint, access_token, proof))
                .await
                .map_err(transport)?;
            let fresh_nonce = self.remember_nonce(NonceServer::UserInfo, &response).await;
            if dpop_challenge(&response, "use_dpop_nonce") && fresh_nonce && !retried {
                retried = true;
                info!("UserInfo asked for a DPoP nonce; sending the request once more with it");
                continue;
            }
            return Ok(response);
        }
    }

    /// UserInfo is for display only: any failure, including a different `sub` (I12), just
    /// means no UserInfo claims.
    pub(super) async fn userinfo(
        &self,
        metadata: &ProviderMetadata,
        access_token: &Secret,
        sub: &str,
        dpop: Option<&DeviceKey>,
    ) -> Option<serde_json::Map<String, serde_json::Value>> {
        let endpoint = metadata.userinfo_endpoint.as_ref()?;
        let result = match self.send_userinfo(endpoint, access_token, dpop).await {
            Ok(response) => userinfo_response(response, sub).map_err(Error::from),
            Err(error) => Err(error),
        };
        result
            .map_err(|error| warn!(kind = %error.kind(), "UserInfo discarded"))
            .ok()
    }
}

fn keys_unavailable(cause: IdTokenError) -> Error {
    Error::IdToken(IdTokenError::KeysUnavailable(Box::new(cause)))
}
