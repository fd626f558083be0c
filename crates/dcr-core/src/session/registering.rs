//! Registering: the registration login with the static client, the RFC 7591 request with the
//! DCR token, and the keychain save, ending in one of three ways: a new client stored, another
//! process's registration adopted (it registered while this one's browser step ran), or a
//! refused 201 whose client is deleted again (RFC 7592 §2.3, through client management).
//!
//! [`Registrar`] depends on the identity server, the shared entry and client management, and
//! never on the session's state: it returns a [`NewRegistration`] and the session commits it.
//! Callers hold the session's `op` lock.

use std::sync::Arc;

use tracing::{info, warn};

use super::client_management::ClientManager;
use super::now;
use super::server::IdentityServer;
use super::shared_entry::SharedEntry;
use crate::agents::{BrowserPurpose, BrowserStep, UserAgent};
use crate::config::{Config, TokenEndpointAuthMethod};
use crate::device::key::{DeviceKey, DeviceKeyError};
use crate::device::store::StoredRegistration;
use crate::error::{Error, RegistrationError, TokenError};
use crate::progress::{Progress, ProgressSink};
use crate::protocol::authorize::{prepare_authorization, AuthorizationParams};
use crate::protocol::callback::check_callback;
use crate::protocol::registration::{
    prepare_cleanup, prepare_registration, registration_response, RegistrationBody,
};
use crate::protocol::token::{prepare_code_exchange, token_response, ClientAuth};

/// The registering component, over the session's parts.
pub(super) struct Registrar<'a> {
    pub(super) config: &'a Config,
    pub(super) server: &'a IdentityServer,
    pub(super) entry: &'a SharedEntry,
    pub(super) progress: &'a dyn ProgressSink,
}

/// What a registration attempt ended with.
pub(super) enum NewRegistration {
    /// This process registered a client and stored it.
    Created(StoredRegistration),
    /// Another process stored a live registration while this one's browser step ran.
    Adopted(StoredRegistration),
}

impl Registrar<'_> {
    /// The registration login (static public client, scope `dcr`, `prompt=login`), the RFC 7591
    /// request with the resulting DCR token, and the keychain save. The DCR token lives only
    /// inside this function.
    pub(super) async fn register(&self, ua: &dyn UserAgent) -> Result<NewRegistration, Error> {
        let config = self.config;
        // The key first: a `deviceKeyStorage: "tpm"` without a usable TPM fails here, with its
        // fix, before the user is asked to sign in for nothing.
        let key_based = config.token_endpoint_auth_method == TokenEndpointAuthMethod::PrivateKeyJwt;
        let device_key = new_device_key(key_based || config.dpop, || {
            DeviceKey::generate_for(config.device_key_storage)
        })?;
        let metadata = self.server.metadata().await?;
        // The request, the callback check and the exchange all use this step's redirect (in
        // loopback mode, this step's port: `UserAgent::prepare_redirect`).
        let registered = self.entry.binding().redirect_uri();
        let redirect_uri = ua.prepare_redirect(registered).await?;
        let params = AuthorizationParams {
            redirect_uri: &redirect_uri,
            ..AuthorizationParams::registration(config)
        };
        let (url, pending) = prepare_authorization(&metadata, &params);
        info!(client_id = %config.registration_client_id, "registration login: waiting for the user agent");
        self.progress.report(Progress::WaitingForSignIn);
        // `prompt=login` (OIDC Core §3.1.2.1): the server shows its form whatever session it has.
        let redirect = ua
            .authorize(BrowserStep {
                url,
                redirect: redirect_uri.clone(),
                state: pending.state().clone(),
                purpose: BrowserPurpose::RegistrationLogin,
                user_action_expected: params.force_login,
            })
            .await?;
        let code = check_callback(&redirect, &pending)?;
        self.progress.report(Progress::Registering);
        let auth = ClientAuth::Public {
            client_id: &config.registration_client_id,
        };
        let (request, _nonce) =
            prepare_code_exchange(&metadata.token_endpoint, pending, code, &auth)?;
        let response = self
            .server
            .send(request)
            .await
            .map_err(TokenError::Transport)?;
        let dcr_token = token_response(response, false)?.access_token;

        let mut body = match &config.software_id {
            // The template decides the redirect URIs: ours, and this app's in its other modes.
            Some(software_id) => RegistrationBody::templatized(software_id).with_app_redirect_uris(
                config
                    .redirect_uris_of_every_mode()
                    .iter()
                    .map(|uri| uri.as_str()),
            ),
            // Loopback mode registers the port-less loopback URIs (RFC 8252 §7.3).
            None => RegistrationBody::full(
                registered.as_str(),
                self.entry.binding().post_logout_redirect_uri().as_str(),
                &config.scope,
                config.token_endpoint_auth_method,
            ),
        };
        if let (true, Some(key)) = (key_based, &device_key) {
            body = body.with_device_jwks(&key.public_jwks());
        }
        if config.dpop {
            body = body.with_dpop_bound_access_tokens();
        }
        // Registration and the keychain save run under the cross-process lock, and only after
        // looking at the entry again: another process may have registered while this one's
        // browser step ran, and a second client would be an orphan on the server.
        let _lock = self.entry.lock().await;
        if let Some(theirs) = self.registered_elsewhere().await? {
            return Ok(NewRegistration::Adopted(theirs));
        }
        let request = prepare_registration(&metadata.registration_endpoint, &dcr_token, &body);
        drop(dcr_token);
        let response = self
            .server
            .send(request)
            .await
            .map_err(RegistrationError::Transport)?;
        let registration = match registration_response(response, &body, registered.as_str(), now())
        {
            Ok(registration) => registration,
            Err(refused) => {
                // The server may have created a client we will never use: delete it at
                // once (RFC 7592 §2.3), or every retry leaves another live client behind.
                let deleted = match &refused.cleanup {
                    Some(handle) => self.clients().send_delete(prepare_cleanup(handle)).await,
                    None => false,
                };
                if refused.created {
                    warn!(
                        deleted,
                        "refused the registration response; deleting the client it created"
                    );
                }
                return Err(refused.into_error(deleted).into());
            }
        };
        let stored = StoredRegistration {
            registration,
            registered_at: now(),
            device_key,
            // A new client: no user has signed in with it yet.
            refresh_token: None,
        };

        if let Err(error) = self.entry.save(&stored).await {
            // S1: the client exists on the server but we cannot keep its secret. Delete it
            // (RFC 7592 §2.3) so no orphan is left, and report the keychain problem.
            warn!(
                kind = %error.kind(),
                "keychain save failed after registration; deleting the new client"
            );
            self.clients().delete_on_server(&stored).await;
            return Err(error);
        }
        Ok(NewRegistration::Created(stored))
    }

    /// Under the lock, before registering: a live registration in the entry means another
    /// process got there first.
    async fn registered_elsewhere(&self) -> Result<Option<StoredRegistration>, Error> {
        Ok(self
            .entry
            .read()
            .await?
            .filter(|theirs| !theirs.registration.secret_expired(now())))
    }

    fn clients(&self) -> ClientManager<'_> {
        ClientManager::new(self.server.http(), self.entry)
    }
}

/// A fresh key pair for this registration, when it authenticates with it (private_key_jwt) or
/// binds tokens with it (DPoP). Only its public half is sent. A key that cannot be made (the
/// system's random number generator failed) is an error, as in a key rotation: nothing has
/// been registered yet, so there is nothing to clean up.
pub(super) fn new_device_key(
    needed: bool,
    generate: impl FnOnce() -> Result<DeviceKey, DeviceKeyError>,
) -> Result<Option<Arc<DeviceKey>>, Error> {
    if !needed {
        return Ok(None);
    }
    Ok(Some(Arc::new(generate()?)))
}
