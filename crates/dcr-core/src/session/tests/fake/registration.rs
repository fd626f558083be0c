//! The fake's registration endpoint: RFC 7591 registration with a DCR token, and the RFC 7592
//! read and delete of a registered client.

use serde_json::{json, Value};

use super::*;

impl FakeIdp {
    pub(super) fn register(&self, request: &OutgoingRequest) -> CappedResponse {
        let mut state = self.state.lock().unwrap();
        let bearer = request
            .authorization
            .as_ref()
            .map(|a| a.expose().trim_start_matches("Bearer ").to_owned());
        if !bearer.is_some_and(|token| state.dcr_tokens.contains(&token)) {
            return respond(401, json!({"error": "invalid_token"}));
        }
        if let Some((status, body)) = state.registration_error.clone() {
            return respond(status, body);
        }
        let body: Value = serde_json::from_str(request.body.as_ref().unwrap().expose()).unwrap();
        let device_key = (body["token_endpoint_auth_method"] == "private_key_jwt")
            .then(|| body["jwks"]["keys"][0].clone());
        // A templatized request names no redirect: the template's is used.
        let redirects = match body.get("redirect_uris") {
            Some(uris) => uris.clone(),
            None => json!(["io.curity.dcrclient:/callback"]),
        };
        state.last_registration_body = Some(body);
        state.registrations += 1;
        let client_id = format!("client-{}", state.registrations);
        let secret = Self::fresh(&mut state, "secret");
        let rat = Self::fresh(&mut state, "rat");
        state
            .clients
            .insert(client_id.clone(), (secret.clone(), rat.clone()));
        state.redirects.insert(client_id.clone(), redirects.clone());
        let mut body = json!({
            "client_id": client_id, "client_secret": secret, "client_secret_expires_at": state.secret_expires_at,
            "registration_access_token": rat, "registration_client_uri": format!("{BASE}/register/{client_id}"),
            "token_endpoint_auth_method": "client_secret_basic", "redirect_uris": redirects,
        });
        if state.no_management {
            body.as_object_mut()
                .unwrap()
                .remove("registration_client_uri");
        }
        if let Some(jwk) = device_key {
            // Like oidc-provider: no secret for private_key_jwt, the key echoed.
            crate::test_support::as_private_key_jwt(&mut body);
            body["jwks"] = json!({ "keys": [jwk.clone()] });
            state.device.client_keys.insert(client_id.clone(), jwk);
        }
        patch(&mut body, state.registration_patch.clone());
        respond(201, body)
    }

    /// RFC 7592 §2.1 read and §2.3 delete. Like oidc-provider, an unknown client or token is 401.
    pub(super) fn manage(&self, request: &OutgoingRequest, client_id: &str) -> CappedResponse {
        let mut state = self.state.lock().unwrap();
        let bearer = bearer(request);
        if request.method == Method::Get {
            state.reads += 1;
            if let Some(status) = state.read_status {
                return respond(status, json!({}));
            }
        } else {
            state
                .delete_requests
                .push((request.url.path().to_owned(), bearer.clone()));
            if let Some(status) = state.delete_status {
                return respond(status, json!({}));
            }
        }
        let Some((secret, rat)) = state.clients.get(client_id).cloned() else {
            return respond(401, json!({"error": "invalid_token"}));
        };
        if rat != bearer {
            return respond(401, json!({"error": "invalid_token"}));
        }
        if request.method == Method::Get {
            // Like oidc-provider: the client's metadata, without the management token.
            let (mut secret, mut rat) = (secret, None);
            if state.rotate_secret_on_read {
                state.rotate_secret_on_read = false;
                secret = Self::fresh(&mut state, "secret");
            }
            if state.rotate_token_on_read || state.rotate_token_on_every_read {
                state.rotate_token_on_read = false;
                rat = Some(Self::fresh(&mut state, "rat"));
            }
            let current = rat.clone().unwrap_or(bearer);
            state
                .clients
                .insert(client_id.to_owned(), (secret.clone(), current));
            let redirects = state
                .redirects
                .get(client_id)
                .cloned()
                .unwrap_or_else(|| json!(["io.curity.dcrclient:/callback"]));
            let mut body = json!({
                "client_id": client_id, "client_secret": secret,
                "client_secret_expires_at": state.secret_expires_at,
                "token_endpoint_auth_method": "client_secret_basic",
                "redirect_uris": redirects,
            });
            if let Some(rat) = rat {
                body["registration_access_token"] = json!(rat);
            }
            if state.device.client_keys.contains_key(client_id) {
                crate::test_support::as_private_key_jwt(&mut body);
            }
            patch(&mut body, state.read_patch.clone());
            return respond(200, body);
        }
        state.clients.remove(client_id);
        state.deleted.push(client_id.to_owned());
        respond(204, json!({}))
    }
}
