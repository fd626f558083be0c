//! The network steps the session walks through. Each is `prepare_*` → send → `*_response`; none
//! of them commits state (the public methods in `session.rs` do, after everything succeeded).
//! Callers hold the `op` lock.

use std::sync::Arc;

use tracing::{info, warn};

use super::cleanup::ServerLogout;
use super::client_management;
use super::device::Credentials;
use super::refresh::Expiry;
use super::{now, Session, Tokens};
use crate::agents::{BrowserPurpose, BrowserStep, UserAgent};
use crate::device::key::DeviceKey;
use crate::device::store::StoredRegistration;
use crate::error::{DiscoveryError, Error, TokenError, UserInfoError};
use crate::platform::http::{CappedResponse, OutgoingRequest, SendError};
use crate::progress::Progress;
use crate::protocol::authorize::{prepare_authorization, AuthorizationParams};
use crate::protocol::callback::check_callback;
use crate::protocol::discovery::{discovery_response, prepare_discovery, ProviderMetadata};
use crate::protocol::id_token::IdTokenExpectations;
use crate::protocol::logout::{check_logout_callback, end_session_url};
use crate::protocol::token::{
    prepare_code_grant, prepare_refresh, token_response_for, CodeGrant, TokenResponse,
};
use crate::protocol::userinfo::userinfo_response;
use crate::Secret;

impl Session {
    pub(super) async fn send(&self, request: OutgoingRequest) -> Result<CappedResponse, SendError> {
        client_management::send(self.http.as_ref(), request).await
    }

    /// Discovery, fetched once per session (and cached only when it validated, D1).
    pub(super) async fn metadata(&self) -> Result<Arc<ProviderMetadata>, Error> {
        if let Some(metadata) = self.inner.lock().await.metadata.clone() {
            return Ok(metadata);
        }
        self.rediscover().await
    }

    /// Reads discovery again and replaces the cached metadata once the new document validated
    /// (D1). Also used when `jwks_uri` answers 404: the key set may have moved (D6).
    pub(super) async fn rediscover(&self) -> Result<Arc<ProviderMetadata>, Error> {
        let response = self
            .send(prepare_discovery(&self.config.issuer))
            .await
            .map_err(DiscoveryError::Transport)?;
        let metadata = Arc::new(discovery_response(response, &self.config.issuer)?);
        self.inner.lock().await.metadata = Some(metadata.clone());
        Ok(metadata)
    }

    /// The sign-in with the per-install client: authorize (SSO), exchange with the client
    /// secret, verify the ID token, then UserInfo.
    pub(super) async fn sign_in_with(
        &self,
        stored: &StoredRegistration,
        ua: &dyn UserAgent,
    ) -> Result<Tokens, Error> {
        let registration = &stored.registration;
        let credentials = Credentials::of(stored)?;
        let dpop = self.dpop_key(stored);
        let metadata = self.metadata().await?;
        let redirect_uri = ua
            .prepare_redirect(self.entry.binding().redirect_uri())
            .await?;
        let mut params = AuthorizationParams {
            redirect_uri: &redirect_uri,
            ..AuthorizationParams::sign_in(&self.config, &registration.client_id)
        };
        // RFC 9449 §10: the code is bound to the DPoP key, so only this device can redeem it.
        params.dpop_jkt = dpop.map(DeviceKey::thumbprint);
        let (url, pending) = prepare_authorization(&metadata, &params);
        info!(client_id = %registration.client_id, "sign-in: waiting for the user agent");
        self.report(Progress::SigningIn);
        // Single sign-on after the registration login, or a password when the server has no
        // session: the user may or may not be needed (no `prompt=login` here).
        let redirect = ua
            .authorize(BrowserStep {
                url,
                redirect: redirect_uri.clone(),
                state: pending.state().clone(),
                purpose: BrowserPurpose::SignIn,
                user_action_expected: params.force_login,
            })
            .await?;
        let code = check_callback(&redirect, &pending)?;
        // The browser is done (a shell may have said "waiting for you" meanwhile).
        self.report(Progress::SigningIn);
        let (grant, nonce) = CodeGrant::new(pending, code);
        let response = self
            .send_token_request(dpop, |now| {
                let auth = credentials.auth(&metadata.issuer, now);
                prepare_code_grant(&metadata.token_endpoint, &grant, &auth)
            })
            .await?;
        let mut tokens = token_response_for(response, true, dpop.is_some())?;
        let refresh_token = tokens.refresh_token.take();
        let identity = Identity {
            metadata: &metadata,
            client_id: &registration.client_id,
            nonce: Some(nonce.expose()),
            dpop,
        };
        self.with_identity(tokens, refresh_token, identity).await
    }

    /// How every sign-in ends, with the browser or with a remembered refresh token: the ID
    /// token checked (OIDC Core §3.1.3.7; the nonce only where the request carried one, §12.2),
    /// then UserInfo, best effort (§5.3).
    pub(super) async fn with_identity(
        &self,
        tokens: TokenResponse,
        refresh_token: Option<Secret>,
        identity: Identity<'_>,
    ) -> Result<Tokens, Error> {
        let Identity {
            metadata,
            client_id,
            nonce,
            dpop,
        } = identity;
        let raw = tokens
            .id_token
            .ok_or(TokenError::MissingField("id_token"))?;
        let expect = IdTokenExpectations {
            issuer: &metadata.issuer,
            client_id,
            nonce,
            previous_sub: None,
            now: now(),
        };
        let id_token = self.verify(&raw, metadata, &expect).await?;
        let userinfo = self
            .userinfo(metadata, &tokens.access_token, &id_token.claims.sub, dpop)
            .await;
        Ok(Tokens {
            expiry: Expiry::after(tokens.expires_in, now()),
            access_token: tokens.access_token,
            refresh_token,
            id_token,
            userinfo,
            bound: dpop.is_some(),
        })
    }

    /// The refresh grant with the client credentials; rotation keeps the old refresh token
    /// when none is returned (F2), and the last valid ID token when none is returned or when
    /// the new one could not be checked for want of keys (see [`Refreshed`]).
    pub(super) async fn refresh_with(
        &self,
        stored: &StoredRegistration,
        old: Tokens,
    ) -> Result<Refreshed, Error> {
        let registration = &stored.registration;
        let refresh_token = old.refresh_token.clone().ok_or(Error::NotSignedIn)?;
        let RefreshGrant {
            tokens,
            metadata,
            dpop,
        } = self.refresh_grant(stored, &refresh_token).await?;
        let (id_token, unchecked) = match &tokens.id_token {
            // OIDC Core §12.2: same subject; no nonce to check.
            Some(raw) => {
                let expect = IdTokenExpectations {
                    issuer: &metadata.issuer,
                    client_id: &registration.client_id,
                    nonce: None,
                    previous_sub: Some(&old.id_token.claims.sub),
                    now: now(),
                };
                match self.verify(raw, &metadata, &expect).await {
                    Ok(id_token) => (id_token, None),
                    // A token that FAILED its checks (signature, iss, aud, sub) ends the session
                    // (the caller drops everything). One that could not be CHECKED is no
                    // evidence against this response: the access and refresh tokens came from
                    // the token endpoint over the same authenticated channel as always, and a
                    // refresh may omit the ID token altogether (OIDC Core §12.2), in which case
                    // the last verified one is kept too. So the unchecked token is discarded,
                    // never used, and the caller reports the retryable error.
                    Err(error) if error.is_keys_unavailable() => (old.id_token, Some(error)),
                    Err(error) => return Err(error),
                }
            }
            None => (old.id_token, None),
        };
        Ok(Refreshed {
            tokens: Tokens {
                expiry: Expiry::after(tokens.expires_in, now()),
                refresh_token: tokens.refresh_token.or(old.refresh_token),
                access_token: tokens.access_token,
                id_token,
                userinfo: old.userinfo,
                bound: dpop.is_some(),
            },
            unchecked,
        })
    }

    /// The refresh grant (RFC 6749 §6) with this registration's credentials, and a DPoP proof
    /// when tokens are bound (RFC 9449 §5). The caller decides what the answer means: a refresh
    /// in memory keeps the last ID token, a remembered sign-in needs a new one.
    pub(super) async fn refresh_grant<'s>(
        &self,
        stored: &'s StoredRegistration,
        refresh_token: &Secret,
    ) -> Result<RefreshGrant<'s>, Error> {
        let credentials = Credentials::of(stored)?;
        let dpop = self.dpop_key(stored);
        let metadata = self.metadata().await?;
        let response = self
            .send_token_request(dpop, |now| {
                let auth = credentials.auth(&metadata.issuer, now);
                prepare_refresh(&metadata.token_endpoint, refresh_token, &auth)
            })
            .await?;
        let tokens = token_response_for(response, false, dpop.is_some())?;
        Ok(RefreshGrant {
            tokens,
            metadata,
            dpop,
        })
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
            Ok(response) => userinfo_response(response, sub),
            Err(error) => Err(UserInfoError::Transport(error)),
        };
        result
            .map_err(|error| warn!(kind = %Error::from(error).kind(), "UserInfo discarded"))
            .ok()
    }

    /// The server half of logout: revoke the refresh token (RFC 7009) and open the end-session
    /// URL. Confirmed only when the post-logout redirect came back with our state (L3).
    pub(super) async fn end_server_session(
        &self,
        tokens: &Tokens,
        client_id: &str,
        ua: &dyn UserAgent,
    ) -> ServerLogout {
        let Ok(metadata) = self.metadata().await else {
            return ServerLogout::Failed;
        };
        self.revoke_refresh_token(&metadata, tokens, client_id)
            .await;
        // L2: no end-session endpoint means a local-only logout; trying again cannot help.
        if metadata.end_session_endpoint.is_none() {
            info!("the server has no end_session_endpoint; local logout only");
            return ServerLogout::Unsupported;
        }
        // In loopback mode the end-session redirect is loopback too, on this step's own port:
        // the client is registered with `http://127.0.0.1/logoutcallback` and the server
        // allows any port for a native client (RFC 8252 §7.3).
        let post_logout = match ua
            .prepare_redirect(self.entry.binding().post_logout_redirect_uri())
            .await
        {
            Ok(redirect) => redirect,
            Err(error) => {
                warn!(kind = %Error::from(error).kind(), "logout page not opened");
                return ServerLogout::Failed;
            }
        };
        let post_logout = &post_logout;
        let Some((url, pending)) = end_session_url(
            &metadata,
            Some(&tokens.id_token.raw),
            client_id,
            post_logout,
        ) else {
            info!("the server has no end_session_endpoint; local logout only");
            return ServerLogout::Unsupported;
        };
        // RP-Initiated Logout 1.0 §2: the OP SHOULD ask whether to log out, but need not (and
        // oidc-provider does not when it has no session), so the user may not be needed.
        let step = BrowserStep {
            url,
            redirect: post_logout.clone(),
            state: pending.state().clone(),
            purpose: BrowserPurpose::SignOut,
            user_action_expected: false,
        };
        let outcome = ua.authorize(step).await;
        // The browser is done (a shell may have said "continue in your browser" meanwhile).
        self.report(Progress::SigningOut);
        match outcome {
            Ok(redirect) => match check_logout_callback(&redirect, &pending) {
                Ok(()) => ServerLogout::Confirmed,
                Err(error) => {
                    warn!(
                        kind = %Error::from(error).kind(),
                        "post-logout redirect ignored"
                    );
                    ServerLogout::Failed
                }
            },
            Err(error) => {
                warn!(
                    kind = %Error::from(error).kind(),
                    "logout page not completed"
                );
                ServerLogout::Failed
            }
        }
    }
}

/// A refresh that went through at the token endpoint. `unchecked` is set when the response's
/// new ID token could not be checked because the key set was unavailable: `tokens` then holds
/// the new access and refresh tokens with the last verified ID token, and the caller keeps them
/// (the old refresh token may already be rotated away) and reports the retryable `keysUnavailable` error.
pub(super) struct Refreshed {
    pub tokens: Tokens,
    pub unchecked: Option<Error>,
}

/// Whose sign-in a token response ends: what [`Session::with_identity`] checks the ID token
/// against.
pub(super) struct Identity<'a> {
    pub metadata: &'a ProviderMetadata,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    pub dpop: Option<&'a DeviceKey>,
}

/// What the token endpoint answered to a refresh grant, with what it was sent with.
pub(super) struct RefreshGrant<'s> {
    pub tokens: TokenResponse,
    pub metadata: Arc<ProviderMetadata>,
    pub dpop: Option<&'s DeviceKey>,
}
