//! The fake's device-key side, checked as oidc-provider checks it: `private_key_jwt`
//! assertions verified against the registered `jwks` (RFC 7523 §3), and DPoP proofs (RFC 9449
//! §4.3) verified with their own key, with server nonces that can be required, rotated, or asked
//! for every time (a server that never accepts a nonce): the token endpoint's (§8) and
//! UserInfo's (a resource server's, §9) apart.

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use serde_json::{json, Value};

use super::{respond, FakeIdp, FakeState};
use crate::platform::http::{CappedResponse, OutgoingRequest};
use crate::test_support::ISSUER;

/// DPoP and private_key_jwt state of the fake server.
#[derive(Default)]
pub(crate) struct DeviceState {
    /// client_id → the public key registered in `jwks`.
    pub client_keys: HashMap<String, Value>,
    /// Every assertion `jti` seen (RFC 7523 §3: a replay is refused).
    pub jtis: Vec<String>,
    /// Token endpoint proofs must carry this nonce (the authorization server's, RFC 9449 §8);
    /// a wrong or missing one gets `use_dpop_nonce` and a fresh one.
    pub required_nonce: Option<String>,
    /// Likewise for UserInfo, a resource server with nonces of its own (RFC 9449 §9).
    pub userinfo_nonce: Option<String>,
    /// Answer every proof with `use_dpop_nonce` and a fresh nonce (never satisfied).
    pub nonce_every_time: bool,
    /// How often `use_dpop_nonce` was answered, at the token endpoint and at UserInfo.
    pub nonce_asks: usize,
    /// Refuse every proof with `invalid_dpop_proof`.
    pub refuse_proofs: bool,
    /// Answer a code exchange with a proof with a Bearer token anyway.
    pub ignore_proofs: bool,
    /// The claims of every proof received, in order: (htm, claims).
    pub proofs: Vec<Value>,
    counter: u32,
}

fn decode(part: &str) -> Option<Value> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// Verifies a compact ES256 JWS with `jwk`; returns (header, claims).
pub(crate) fn verify(jwt: &str, jwk: Option<&Value>) -> Option<(Value, Value)> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [head, body, signature] = parts[..] else {
        return None;
    };
    let header = decode(head)?;
    let jwk = jwk.unwrap_or(&header["jwk"]);
    let coordinate = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str()?).ok();
    let mut point = vec![4u8];
    point.extend(coordinate("x")?);
    point.extend(coordinate("y")?);
    let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(format!("{head}.{body}").as_bytes(), &signature)
        .ok()?;
    Some((header, decode(body)?))
}

impl DeviceState {
    /// RFC 7523 §3: the client the assertion authenticates, when it is valid: signed with
    /// the registered key, `iss` = `sub`, `aud` = the issuer, a short life, a new `jti`.
    pub(crate) fn assertion_client(&mut self, form: &HashMap<String, String>) -> Option<String> {
        assert_eq!(
            form.get("client_assertion_type").map(String::as_str),
            Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
        );
        let assertion = form.get("client_assertion")?;
        let unverified = decode(assertion.split('.').nth(1)?)?;
        let client_id = unverified["sub"].as_str()?.to_owned();
        let (_, claims) = verify(assertion, Some(self.client_keys.get(&client_id)?))?;
        let jti = claims["jti"].as_str()?.to_owned();
        let lifetime = claims["exp"].as_i64()? - claims["iat"].as_i64()?;
        let fresh = !self.jtis.contains(&jti);
        self.jtis.push(jti);
        (claims["iss"] == claims["sub"] && claims["aud"] == ISSUER && lifetime <= 60 && fresh)
            .then_some(client_id)
    }

    /// RFC 9449 §4.3 and §8 for one request: `Ok(claims)` for an acceptable proof, or the
    /// error response (`invalid_dpop_proof`, or `use_dpop_nonce` with a `DPoP-Nonce`).
    /// `resource`: UserInfo answers 401 with `WWW-Authenticate` instead of a 400 body.
    pub(crate) fn check_proof(
        &mut self,
        request: &OutgoingRequest,
        resource: bool,
    ) -> Result<Value, CappedResponse> {
        let refused = |error: &str, nonce: Option<String>| {
            let mut response = if resource {
                let mut response = respond(401, json!({}));
                response.www_authenticate = Some(format!(r#"DPoP error="{error}""#));
                response
            } else {
                respond(400, json!({"error": error}))
            };
            response.dpop_nonce = nonce;
            response
        };
        let proof = request.dpop.as_ref().expect("a DPoP proof").expose();
        let Some((header, claims)) = verify(proof, None) else {
            return Err(refused("invalid_dpop_proof", None));
        };
        self.proofs.push(claims.clone());
        assert_eq!(header["typ"], "dpop+jwt");
        assert!(header["jwk"].get("d").is_none());
        let method = format!("{:?}", request.method).to_uppercase();
        assert_eq!(claims["htm"], method.as_str());
        let mut htu = request.url.clone();
        htu.set_query(None);
        assert_eq!(claims["htu"], htu.as_str());
        if self.refuse_proofs {
            return Err(refused("invalid_dpop_proof", None));
        }
        let required = if resource {
            &mut self.userinfo_nonce
        } else {
            &mut self.required_nonce
        };
        let nonce_ok = required
            .as_ref()
            .is_none_or(|nonce| claims["nonce"].as_str() == Some(nonce));
        if self.nonce_every_time || !nonce_ok {
            self.counter += 1;
            let nonce = format!("nonce-{}", self.counter);
            *required = Some(nonce.clone());
            self.nonce_asks += 1;
            return Err(refused("use_dpop_nonce", Some(nonce)));
        }
        Ok(claims)
    }
}

fn userinfo_claims(state: &FakeState) -> serde_json::Value {
    let mut claims = json!({"sub": "demouser", "email": "demo@example.com"});
    if state.profile_in_userinfo_only {
        claims["name"] = json!("Demo User");
    }
    claims
}

impl FakeIdp {
    /// UserInfo: Bearer, or DPoP with a proof carrying `ath` (RFC 9449 §7.1).
    pub(super) fn userinfo(&self, request: &OutgoingRequest) -> CappedResponse {
        let mut state = self.state.lock().unwrap();
        let authorization = request.authorization.as_ref().unwrap().expose().to_owned();
        let (scheme, _) = authorization.split_once(' ').unwrap();
        let response = if scheme == "DPoP" {
            match state.device.check_proof(request, true) {
                Ok(claims) => {
                    assert!(claims.get("ath").is_some(), "ath on a resource request");
                    respond(200, userinfo_claims(&state))
                }
                Err(refused) => refused,
            }
        } else {
            assert!(request.dpop.is_none());
            respond(200, userinfo_claims(&state))
        };
        state
            .userinfo_requests
            .push((scheme.to_owned(), response.status));
        response
    }
}
