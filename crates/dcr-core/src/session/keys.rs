//! The key set behind ID-token checks (D6), and what its failures cost.
//!
//! The set is fetched when first needed and cached with the time. An unknown `kid` causes one
//! more fetch, at most once per interval (`key_refetch_secs`), so a key rotation costs one
//! fetch and a flood of invented key ids cannot become a flood of fetches. A failed fetch is
//! retried once after a short backoff; a 404 re-reads discovery first, since `jwks_uri` may
//! have moved. When the keys still cannot be had, the result is
//! [`IdTokenError::KeysUnavailable`]: the token was not checked, rather than found bad, so the
//! caller keeps what it has and may try again.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tracing::{info, warn};

use super::{now, Session};
use crate::error::{Error, IdTokenError};
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::id_token::{
    jwks_response, prepare_jwks, refetch_due, verify_id_token, IdToken, IdTokenExpectations, Jwks,
    JWKS_RETRY_BACKOFF,
};
use crate::Secret;

impl Session {
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
        let cached = self.inner.lock().await.jwks.clone();
        let (jwks, refetch) = match cached {
            Some((jwks, at)) => {
                let interval = self.key_refetch_secs.load(Ordering::Relaxed);
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
                    self.inner.lock().await.jwks = Some((jwks.clone(), now()));
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
}

fn keys_unavailable(cause: IdTokenError) -> Error {
    Error::IdToken(IdTokenError::KeysUnavailable(Box::new(cause)))
}
