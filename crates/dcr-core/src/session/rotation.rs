//! "Rotate device key": a new key pair for this install, registered with the server
//! through an RFC 7592 §2.2 update before it is used.
//!
//! The order is what keeps the device working whatever fails:
//!
//! 1. generate the new key pair (nothing is sent yet);
//! 2. PUT the registration with the new public key as `jwks`; a refused update changes nothing,
//!    and the old key goes on working;
//! 3. check the answer registers the new key (by its RFC 7638 `kid`) and no longer the old one;
//! 4. save the new private key and the updated registration (with the registration access token
//!    the update rotated) in one keychain save;
//! 5. only then use the new key.
//!
//! Steps 2 to 4 hold the cross-process lock: the update rotates the registration access token,
//! so no other process may use the old one, or save an older entry over the new one, meanwhile.
//!
//! The RFC 7592 calls themselves are client management's (`client_management.rs`).
//!
//! When the save fails after the server switched keys, the server is switched back (a second
//! update with the old key, authorized by the rotated token), so the old key in the keychain is
//! again the one the server accepts.

use std::sync::Arc;

use tracing::{info, warn};

use super::{Event, Session, StateView};
use crate::config::TokenEndpointAuthMethod;
use crate::device::key::DeviceKey;
use crate::device::store::StoredRegistration;
use crate::error::Error;
use crate::progress::Progress;

impl Session {
    /// Replaces this install's device key, on the server first (RFC 7592 §2.2) and then in the
    /// keychain. Only for a `private_key_jwt` registration ([`Error::NoDeviceKey`] otherwise);
    /// every failure leaves the old key and registration in use. Tokens are kept: a refresh
    /// authenticates with the new key, and DPoP-bound tokens are bound to the new key from the
    /// next refresh on (the refresh token of a confidential client is not key-bound, RFC 9449
    /// §5).
    pub async fn rotate_device_key(&self) -> Result<StateView, Error> {
        let _op = self.op.lock().await;
        self.report(Progress::RotatingKey);
        self.ensure_loaded().await?;
        let _lock = self.entry.lock().await;
        // Another process may have rotated the key or the token meanwhile: start from the entry.
        self.reload_under_lock().await?;
        let stored = self.current_registration().await?;
        let old_key = match (
            &stored.device_key,
            stored.registration.token_endpoint_auth_method,
        ) {
            (Some(key), TokenEndpointAuthMethod::PrivateKeyJwt) => key.clone(),
            _ => return Err(Error::NoDeviceKey),
        };
        // Where the config says now: a rotation is also how a software key moves into the TPM.
        let new_key = Arc::new(DeviceKey::generate_for(self.config.device_key_storage)?);
        let registration = self
            .clients()
            .update_keys(&stored.registration, &new_key, Some(old_key.thumbprint()))
            .await?;
        let rotated = StoredRegistration {
            registration,
            registered_at: stored.registered_at,
            device_key: Some(new_key),
            refresh_token: stored.refresh_token.clone(),
        };
        if let Err(error) = self.entry.save(&rotated).await {
            warn!(kind = %error.kind(), "keychain save failed after the key rotation; switching the server back to the old key");
            let current = self.clients().roll_back(rotated, old_key).await;
            self.inner.lock().await.registration = Some(current);
            return Err(error);
        }
        info!(
            client_id = %rotated.registration.client_id,
            thumbprint = %rotated.device_key.as_deref().map(DeviceKey::thumbprint).unwrap_or_default(),
            "device key rotated"
        );
        let mut inner = self.inner.lock().await;
        inner.registration = Some(rotated);
        inner.last_event = Some(Event::KeyRotated);
        drop(inner);
        Ok(self.view().await)
    }
}
