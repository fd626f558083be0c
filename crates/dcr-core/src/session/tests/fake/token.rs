//! The fake's token endpoint: client authentication (RFC 6749 §2.3.1, RFC 7523), the code
//! exchange with single-use codes and PKCE S256 (RFC 7636 §4.6), and refresh-token rotation.

use std::collections::HashMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::json;

use super::*;

impl FakeIdp {
    /// RFC 6749 §2.3.1: Basic (form-urlencoded inside) or the body.
    pub(super) fn client_auth(
        request: &OutgoingRequest,
        form: &HashMap<String, String>,
    ) -> (Option<String>, Option<String>) {
        if let Some(header) = &request.authorization {
            let decoded = STANDARD
                .decode(header.expose().strip_prefix("Basic ").unwrap())
                .unwrap();
            let decoded = String::from_utf8(decoded).unwrap();
            let (id, secret) = decoded.split_once(':').unwrap();
            let unescape = |v: &str| {
                url::form_urlencoded::parse(format!("v={v}").as_bytes())
                    .next()
                    .unwrap()
                    .1
                    .into_owned()
            };
            return (Some(unescape(id)), Some(unescape(secret)));
        }
        (
            form.get("client_id").cloned(),
            form.get("client_secret").cloned(),
        )
    }

    pub(super) fn token(&self, request: &OutgoingRequest) -> CappedResponse {
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(request.body.as_ref().unwrap().expose().as_bytes())
                .into_owned()
                .collect();
        let mut state = self.state.lock().unwrap();
        state.token_requests += 1;
        // RFC 7523 §2.2: an assertion instead of a secret.
        let by_key = form.contains_key("client_assertion");
        let (client_id, secret) = if by_key {
            match state.device.assertion_client(&form) {
                Some(client_id) if state.clients.contains_key(&client_id) => {
                    (Some(client_id), None)
                }
                _ => return respond(401, json!({"error": "invalid_client"})),
            }
        } else {
            Self::client_auth(request, &form)
        };
        let client_id = client_id.unwrap_or_default();
        let dynamic = client_id != STATIC_CLIENT;
        // RFC 9449: a proof is checked before anything else the request says.
        let bound = request.dpop.is_some();
        assert!(dynamic || !bound, "the DCR login stays Bearer");
        if bound {
            if let Err(refused) = state.device.check_proof(request, false) {
                return refused;
            }
        }
        let token_type = if bound && !state.device.ignore_proofs {
            "DPoP"
        } else {
            "Bearer"
        };
        if dynamic && state.token_bare_401 {
            return CappedResponse {
                status: 401,
                content_type: Some("text/html".into()),
                body: b"<html>401 Authorization Required</html>".to_vec(),
                ..Default::default()
            };
        }
        if dynamic && !by_key && state.clients.get(&client_id).map(|c| &c.0) != secret.as_ref() {
            return respond(401, json!({"error": "invalid_client"}));
        }
        match form["grant_type"].as_str() {
            "authorization_code" => {
                let Some(grant) = state.grants.remove(&form["code"]) else {
                    return respond(400, json!({"error": "invalid_grant"}));
                };
                // The engine's verifier is a secret too (for the log assertions).
                state.issued.push(form["code_verifier"].clone());
                let digest =
                    ring::digest::digest(&ring::digest::SHA256, form["code_verifier"].as_bytes());
                assert_eq!(URL_SAFE_NO_PAD.encode(digest), grant.challenge, "PKCE S256");
                assert_eq!(grant.client_id, client_id);
                if !dynamic {
                    let token = Self::fresh(&mut state, "dcr");
                    state.dcr_tokens.push(token.clone());
                    return respond(
                        200,
                        json!({"access_token": token, "token_type": "Bearer", "expires_in": 300}),
                    );
                }
                if let Some((status, body)) = state.code_error.clone() {
                    return respond(status, body);
                }
                let (access, refresh) =
                    (Self::fresh(&mut state, "at"), Self::fresh(&mut state, "rt"));
                state
                    .refresh_tokens
                    .insert(refresh.clone(), client_id.clone());
                let id_token = self.id_token(&state, &client_id, Some(&grant.nonce));
                state.issued.push(id_token.clone());
                respond(
                    200,
                    json!({"access_token": access, "token_type": token_type, "expires_in": 300, "refresh_token": refresh, "id_token": id_token}),
                )
            }
            "refresh_token" => {
                if let Some((status, body)) = state.refresh_error.clone() {
                    return respond(status, body);
                }
                let presented = &form["refresh_token"];
                if state.refresh_tokens.get(presented) != Some(&client_id) {
                    // Reuse of a rotated token: a strict server answers invalid_grant (F3).
                    return respond(400, json!({"error": "invalid_grant"}));
                }
                let access = Self::fresh(&mut state, "at");
                let mut body = json!({"access_token": access, "token_type": token_type.to_lowercase(), "expires_in": 600});
                if !state.no_rotation {
                    state.refresh_tokens.remove(presented);
                    let refresh = Self::fresh(&mut state, "rt");
                    state
                        .refresh_tokens
                        .insert(refresh.clone(), client_id.clone());
                    body["refresh_token"] = json!(refresh);
                }
                if state.refresh_id_token {
                    body["id_token"] = json!(self.id_token(&state, &client_id, None));
                }
                respond(200, body)
            }
            other => panic!("unexpected grant {other}"),
        }
    }
}
