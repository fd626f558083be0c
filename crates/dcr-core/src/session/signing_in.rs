//! Signing in and out with the per-install client at the identity server: the browser step
//! (single sign-on after the registration login, RFC 6749 §4.1 with PKCE), the code exchange
//! with this install's credentials, the ID token and UserInfo checks that end every sign-in
//! (OIDC Core §3.1.3.7, §5.3), and the server half of logout (RFC 7009 revocation, then
//! RP-Initiated Logout 1.0).
//!
//! [`SignIn`] depends on the identity server and the shared entry's binding (which redirect
//! URIs this install registered), never on the session's state: it returns tokens or an
//! outcome, and the session decides what they mean and commits them. Callers hold `op`.

use tracing::{info, warn};

use super::cleanup::ServerLogout;
use super::credentials::{dpop_key, Credentials};
use super::now;
use super::server::IdentityServer;
use super::shared_entry::SharedEntry;
use super::tokens::{Expiry, Tokens};
use crate::agents::{BrowserPurpose, BrowserStep, UserAgent};
use crate::config::Config;
use crate::device::key::DeviceKey;
use crate::device::store::StoredRegistration;
use crate::error::{Error, TokenError};
use crate::progress::{Progress, ProgressSink};
use crate::protocol::authorize::{prepare_authorization, AuthorizationParams};
use crate::protocol::callback::check_callback;
use crate::protocol::discovery::ProviderMetadata;
use crate::protocol::id_token::IdTokenExpectations;
use crate::protocol::logout::{check_logout_callback, end_session_url};
use crate::protocol::token::{
    prepare_code_grant, prepare_revocation, revocation_response, token_response_for, CodeGrant,
    TokenResponse,
};
use crate::Secret;

/// The signing-in component, over the session's parts.
pub(super) struct SignIn<'a> {
    pub(super) config: &'a Config,
    pub(super) server: &'a IdentityServer,
    pub(super) entry: &'a SharedEntry,
    pub(super) progress: &'a dyn ProgressSink,
}

impl SignIn<'_> {
    /// The sign-in with the per-install client: authorize (SSO), exchange with the client
    /// secret, verify the ID token, then UserInfo.
    pub(super) async fn sign_in(
        &self,
        stored: &StoredRegistration,
        ua: &dyn UserAgent,
    ) -> Result<Tokens, Error> {
        let registration = &stored.registration;
        let credentials = Credentials::of(stored)?;
        let dpop = dpop_key(self.config, stored);
        let metadata = self.server.metadata().await?;
        let redirect_uri = ua
            .prepare_redirect(self.entry.binding().redirect_uri())
            .await?;
        let mut params = AuthorizationParams {
            redirect_uri: &redirect_uri,
            ..AuthorizationParams::sign_in(self.config, &registration.client_id)
        };
        // RFC 9449 §10: the code is bound to the DPoP key, so only this device can redeem it.
        params.dpop_jkt = dpop.map(DeviceKey::thumbprint);
        let (url, pending) = prepare_authorization(&metadata, &params);
        info!(client_id = %registration.client_id, "sign-in: waiting for the user agent");
        self.progress.report(Progress::SigningIn);
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
        self.progress.report(Progress::SigningIn);
        let (grant, nonce) = CodeGrant::new(pending, code);
        let response = self
            .server
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
        self.identify(tokens, refresh_token, identity).await
    }

    /// How every sign-in ends, with the browser or with a remembered refresh token: the ID
    /// token checked (OIDC Core §3.1.3.7; the nonce only where the request carried one, §12.2),
    /// then UserInfo, best effort (§5.3).
    pub(super) async fn identify(
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
        let id_token = self.server.verify(&raw, metadata, &expect).await?;
        let userinfo = self
            .server
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

    /// The server half of logout: revoke the refresh token (RFC 7009) and open the end-session
    /// URL. Confirmed only when the post-logout redirect came back with our state (L3).
    pub(super) async fn end_server_session(
        &self,
        stored: Option<&StoredRegistration>,
        tokens: &Tokens,
        client_id: &str,
        ua: &dyn UserAgent,
    ) -> ServerLogout {
        let Ok(metadata) = self.server.metadata().await else {
            return ServerLogout::Failed;
        };
        self.revoke_refresh_token(stored, &metadata, tokens, client_id)
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
        self.progress.report(Progress::SigningOut);
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

    /// F5: revocation is best effort; the local wipe has already happened.
    async fn revoke_refresh_token(
        &self,
        stored: Option<&StoredRegistration>,
        metadata: &ProviderMetadata,
        tokens: &Tokens,
        client_id: &str,
    ) {
        let (Some(endpoint), Some(refresh_token)) =
            (&metadata.revocation_endpoint, &tokens.refresh_token)
        else {
            return;
        };
        let Some(stored) = stored else {
            return;
        };
        // The client being signed out of, which is the stored one unless another process
        // replaced it meanwhile (then its credentials cannot revoke this token anyway).
        if stored.registration.client_id != client_id {
            return;
        }
        let Ok(credentials) = Credentials::of(stored) else {
            return;
        };
        // RFC 7009 §2.1: the client authenticates as at the token endpoint (K2: an assertion
        // with a device key).
        let auth = credentials.auth(&metadata.issuer, now());
        let result = match prepare_revocation(endpoint, refresh_token, &auth) {
            Ok(request) => match self.server.send(request).await {
                Ok(response) => revocation_response(response),
                Err(error) => Err(TokenError::Transport(error)),
            },
            Err(error) => Err(error),
        };
        if let Err(error) = result {
            warn!(
                kind = %Error::from(error).kind(),
                "refresh token revocation failed"
            );
        }
    }
}

/// Whose sign-in a token response ends: what [`SignIn::identify`] checks the ID token
/// against.
pub(super) struct Identity<'a> {
    pub metadata: &'a ProviderMetadata,
    pub client_id: &'a str,
    pub nonce: Option<&'a str>,
    pub dpop: Option<&'a DeviceKey>,
}
