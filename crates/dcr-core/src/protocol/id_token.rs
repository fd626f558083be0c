//! ID token validation, OIDC Core §3.1.3.7 (and §12.2 for tokens from a refresh).
//!
//! The signature is checked first, against `jwks_uri` keys and an allow-list of asymmetric
//! algorithms ([`jwks`]); the claims are only read after that. The gaps `openidconnect`
//! leaves are closed here: `iat` must fall in a window, `azp` is checked, an unknown
//! `kid` reports [`IdTokenError::UnknownKey`] so the session can refetch once (D6).

pub mod jwks;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

pub use jwks::{
    jwks_response, prepare_jwks, refetch_due, should_refetch, Algorithm, Jwks,
    JWKS_MIN_REFETCH_SECS, JWKS_RETRY_BACKOFF,
};

use crate::error::IdTokenError;
use crate::text::constant_time_eq;
use crate::Secret;

/// Allowed clock difference for `exp` and a future `iat`.
pub const CLOCK_SKEW_SECS: i64 = 60;
/// How old `iat` may be: the token was just issued by the exchange or refresh we made.
pub const MAX_IAT_AGE_SECS: i64 = 10 * 60;

/// What the ID token must say.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenExpectations<'a> {
    /// The configured issuer, compared exactly (I4).
    pub issuer: &'a str,
    /// The client the token must be addressed to (I5).
    pub client_id: &'a str,
    /// The nonce of the authorization request (I9). `None` for a token from a refresh, which
    /// carries no new nonce (OIDC Core §12.2).
    pub nonce: Option<&'a str>,
    /// On refresh, the subject must stay the same (OIDC Core §12.2).
    pub previous_sub: Option<&'a str>,
    pub now: i64,
}

/// The verified claims. All claims are kept for display; none of them is a credential.
#[derive(Debug, Clone, PartialEq)]
pub struct IdTokenClaims {
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub name: Option<String>,
    pub all: Map<String, Value>,
}

/// A verified ID token: the raw JWT (kept for `id_token_hint`) and its claims.
#[derive(Debug, Clone)]
pub struct IdToken {
    pub raw: Secret,
    pub claims: IdTokenClaims,
}

fn decode_part(part: &str, what: &'static str) -> Result<Vec<u8>, IdTokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| IdTokenError::Malformed(what))
}

fn numeric_date(claims: &Map<String, Value>, name: &'static str) -> Result<i64, IdTokenError> {
    claims
        .get(name)
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite())
        .map(|v| v as i64)
        .ok_or(IdTokenError::Claim(name))
}

/// Verifies signature and claims. An unknown key gives [`IdTokenError::UnknownKey`].
pub fn verify_id_token(
    raw: &Secret,
    jwks: &Jwks,
    expect: &IdTokenExpectations<'_>,
) -> Result<IdToken, IdTokenError> {
    let parts: Vec<&str> = raw.expose().split('.').collect();
    let [header_b64, payload_b64, signature_b64] = parts[..] else {
        return Err(IdTokenError::Malformed(
            "a JWS has three parts; encrypted tokens are not supported",
        ));
    };
    let header: Value = serde_json::from_slice(&decode_part(header_b64, "header")?)
        .map_err(|_| IdTokenError::Malformed("header"))?;
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or(IdTokenError::Malformed("no alg"))?;
    let alg = Algorithm::parse(alg)?;
    // RFC 7515 §4.1.11: extensions we do not understand must not be ignored.
    if header.get("crit").is_some() {
        return Err(IdTokenError::CriticalHeader);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(_) => return Err(IdTokenError::Malformed("kid")),
    };
    let signature = decode_part(signature_b64, "signature")?;
    let signing_input = &raw.expose()[..header_b64.len() + 1 + payload_b64.len()];
    jwks.verify(kid, alg, signing_input.as_bytes(), &signature)?;

    Ok(IdToken {
        raw: raw.clone(),
        claims: verified_claims(payload_b64, expect)?,
    })
}

/// The payload of a token whose signature has been checked: decoded, then the claims checks.
/// Split out so the fuzz target can reach the claims with payloads it cannot sign.
pub(crate) fn verified_claims(
    payload_b64: &str,
    expect: &IdTokenExpectations<'_>,
) -> Result<IdTokenClaims, IdTokenError> {
    let payload: Value = serde_json::from_slice(&decode_part(payload_b64, "payload")?)
        .map_err(|_| IdTokenError::Malformed("payload"))?;
    let Value::Object(claims) = payload else {
        return Err(IdTokenError::Malformed("the payload is not an object"));
    };
    check_claims(&claims, expect)?;
    Ok(IdTokenClaims {
        sub: claims["sub"].as_str().unwrap_or_default().to_owned(),
        exp: numeric_date(&claims, "exp")?,
        iat: numeric_date(&claims, "iat")?,
        name: claims
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned),
        all: claims,
    })
}

fn check_claims(
    claims: &Map<String, Value>,
    expect: &IdTokenExpectations<'_>,
) -> Result<(), IdTokenError> {
    // I4 (step 2): exact issuer.
    if claims.get("iss").and_then(Value::as_str) != Some(expect.issuer) {
        return Err(IdTokenError::IssuerMismatch);
    }
    // I5 (step 3): aud is a string or an array that contains us, and nobody we do not trust.
    // The only audience this client trusts is itself.
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(aud)) => vec![aud.as_str()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().ok_or(IdTokenError::Claim("aud")))
            .collect::<Result<_, _>>()?,
        _ => return Err(IdTokenError::Claim("aud")),
    };
    if !audiences.contains(&expect.client_id) {
        return Err(IdTokenError::AudienceMismatch);
    }
    if audiences.iter().any(|aud| *aud != expect.client_id) {
        return Err(IdTokenError::UntrustedAudience);
    }
    // Steps 4-5: azp is required with several audiences, and must be us when present.
    match claims.get("azp") {
        Some(Value::String(azp)) if azp == expect.client_id => {}
        None if audiences.len() == 1 => {}
        _ => return Err(IdTokenError::AuthorizedPartyMismatch),
    }
    // I6: a subject, and on refresh the same one (§12.2).
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty());
    match (sub, expect.previous_sub) {
        (None, _) => return Err(IdTokenError::SubjectMismatch),
        (Some(sub), Some(previous)) if sub != previous => {
            return Err(IdTokenError::SubjectMismatch)
        }
        _ => {}
    }
    // I8 (step 9): not expired beyond the skew.
    if expect.now > numeric_date(claims, "exp")?.saturating_add(CLOCK_SKEW_SECS) {
        return Err(IdTokenError::Expired);
    }
    // Step 10: iat within a window (the openidconnect crate accepts any iat).
    let iat = numeric_date(claims, "iat").map_err(|_| IdTokenError::IssuedAt)?;
    if iat > expect.now.saturating_add(CLOCK_SKEW_SECS)
        || iat < expect.now.saturating_sub(MAX_IAT_AGE_SECS)
    {
        return Err(IdTokenError::IssuedAt);
    }
    // I9 (step 11): the nonce of this request.
    if let Some(expected) = expect.nonce {
        match claims.get("nonce").and_then(Value::as_str) {
            Some(nonce) if constant_time_eq(nonce, expected) => {}
            _ => return Err(IdTokenError::NonceMismatch),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
