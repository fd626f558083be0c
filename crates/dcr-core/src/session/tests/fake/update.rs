//! The fake's RFC 7592 §2.2 update (device key rotation), strict like oidc-provider: the
//! registration access token must match, the body must name the client and carry none of the
//! fields §2.2 forbids, and every accepted update rotates the registration access token.

use serde_json::{json, Value};

use super::{patch, respond, FakeIdp, BASE};
use crate::platform::http::{CappedResponse, OutgoingRequest};

/// What the fake's update endpoint saw and how it answers.
#[derive(Default)]
pub(crate) struct Updates {
    /// Every update body, answered or not.
    pub bodies: Vec<Value>,
    /// The key set each client has registered (by update).
    pub jwks: std::collections::HashMap<String, Value>,
    /// Answer with this status and body and change nothing.
    pub error: Option<(u16, Value)>,
    /// Answer 200 with this field replaced (`None`: removed), after applying the update.
    pub patch: Option<(&'static str, Option<Value>)>,
}

const FORBIDDEN: [&str; 4] = [
    "registration_access_token",
    "registration_client_uri",
    "client_secret_expires_at",
    "client_id_issued_at",
];

impl FakeIdp {
    pub(super) fn update(&self, request: &OutgoingRequest, client_id: &str) -> CappedResponse {
        let mut state = self.state.lock().unwrap();
        let body: Value = serde_json::from_str(request.body.as_ref().unwrap().expose()).unwrap();
        state.updates.bodies.push(body.clone());
        if let Some((status, error)) = state.updates.error.clone() {
            return respond(status, error);
        }
        let bearer = super::bearer(request);
        let Some((secret, rat)) = state.clients.get(client_id).cloned() else {
            return respond(401, json!({"error": "invalid_token"}));
        };
        if rat != bearer {
            return respond(401, json!({"error": "invalid_token"}));
        }
        if let Some(field) = FORBIDDEN.iter().find(|f| body.get(**f).is_some()) {
            return respond(
                400,
                json!({"error": "invalid_request", "error_description": format!("request MUST NOT include the {field} field")}),
            );
        }
        if body["client_id"] != client_id {
            return respond(400, json!({"error": "invalid_request"}));
        }
        // oidc-provider's rotateRegistrationAccessToken: the old token is dead from now on.
        let rotated = Self::fresh(&mut state, "rat");
        state
            .clients
            .insert(client_id.to_owned(), (secret, rotated.clone()));
        state
            .updates
            .jwks
            .insert(client_id.to_owned(), body["jwks"].clone());
        // From now on assertions are verified with the new key only (fake/device.rs).
        if let Some(jwk) = body["jwks"]["keys"].get(0) {
            state
                .device
                .client_keys
                .insert(client_id.to_owned(), jwk.clone());
        }
        let mut answer = body;
        answer["registration_access_token"] = json!(rotated);
        answer["registration_client_uri"] = json!(format!("{BASE}/register/{client_id}"));
        patch(&mut answer, state.updates.patch.clone());
        respond(200, answer)
    }
}
