//! The fake's key set and revocation endpoint: key rotation, key-set outages and a moved
//! `jwks_uri` (D6), and a revocation endpoint that can fail (F5).

use std::collections::HashMap;

use serde_json::{json, Value};

use super::{respond, FakeIdp};
use crate::platform::http::{CappedResponse, OutgoingRequest, SendError};
use crate::test_support::TestKey;

/// A failed request: the connection dropped, or an error status.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Outage {
    Drop,
    Status(u16),
}

impl FakeIdp {
    /// Key rotation: a new signing key with a new `kid`, published beside the old ones.
    pub(crate) fn rotate_key(&self) -> String {
        let mut keys = self.keys.lock().unwrap();
        let kid = format!("k{}", keys.len() + 1);
        keys.push((kid.clone(), TestKey::p256()));
        kid
    }

    pub(super) fn jwks(&self, path: &str) -> Result<CappedResponse, SendError> {
        let mut state = self.state.lock().unwrap();
        state.jwks_fetches += 1;
        match state.jwks_failures.pop_front() {
            Some(Outage::Drop) => return Err(dropped()),
            Some(Outage::Status(status)) => return Ok(respond(status, json!({}))),
            None if path != state.jwks_path => return Ok(respond(404, json!({}))),
            None => {}
        }
        let keys = self.keys.lock().unwrap();
        let keys: Vec<Value> = keys.iter().map(|(kid, key)| key.jwk(kid)).collect();
        Ok(respond(200, json!({ "keys": keys })))
    }

    /// RFC 7009 §2: the refresh token, with the client's credentials.
    pub(super) fn revoke(&self, request: &OutgoingRequest) -> Result<CappedResponse, SendError> {
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(request.body.as_ref().unwrap().expose().as_bytes())
                .into_owned()
                .collect();
        let (client_id, secret) = Self::client_auth(request, &form);
        let mut state = self.state.lock().unwrap();
        state.revocations += 1;
        match state.revocation_failure {
            Some(Outage::Drop) => return Err(dropped()),
            Some(Outage::Status(status)) => return Ok(respond(status, json!({}))),
            None => {}
        }
        let client_id = client_id.unwrap_or_default();
        if state.clients.get(&client_id).map(|c| &c.0) != secret.as_ref() {
            return Ok(respond(401, json!({"error": "invalid_client"})));
        }
        state.refresh_tokens.remove(&form["token"]);
        Ok(respond(200, json!({})))
    }
}

pub(super) fn dropped() -> SendError {
    SendError::Unreachable {
        host: "idp.example".into(),
        reason: "the connection was reset",
    }
}
