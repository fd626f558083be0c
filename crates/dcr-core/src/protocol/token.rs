//! The token endpoint: code exchange (RFC 6749 §4.1.3 with RFC 7636 §4.5), refresh (§6) and
//! revocation (RFC 7009), and the checks on what comes back (§5.1, §5.2).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;
use url::form_urlencoded::{byte_serialize, Serializer};
use url::Url;

use crate::config::TokenEndpointAuthMethod;
use crate::error::{DeviceKeyError, OAuthError, TokenError};
use crate::platform::http::{CappedResponse, Method, OutgoingRequest};
use crate::protocol::authorize::PendingAuthorization;
use crate::protocol::callback::AuthorizationCode;
use crate::Secret;

/// T6: a longer lifetime is cut to one day. Refreshing early is harmless; believing a token
/// lives for years is not.
pub const MAX_EXPIRES_IN: u64 = 24 * 60 * 60;

/// What signs a `private_key_jwt` client assertion (RFC 7523 §2.2): this install's key lives
/// in the device layer, and the protocol step only asks it for a fresh assertion per request.
pub trait ClientAssertionSigner: Send + Sync {
    /// A client assertion with `iss` = `sub` = `client_id`, the given `aud`, a unique `jti`,
    /// issued at `now` (RFC 7523 §3). Signing can fail (a hardware key may be busy or gone):
    /// then no request is sent.
    fn client_assertion(
        &self,
        client_id: &str,
        audience: &str,
        now: i64,
    ) -> Result<Secret, DeviceKeyError>;
}

/// How the client authenticates to the token endpoint (RFC 6749 §2.3).
#[derive(Clone, Copy)]
pub enum ClientAuth<'a> {
    /// A public client (the static registration client): `client_id` in the body, no secret.
    Public { client_id: &'a str },
    /// `client_secret_basic` (RFC 6749 §2.3.1).
    Basic {
        client_id: &'a str,
        secret: &'a Secret,
    },
    /// `client_secret_post` (RFC 6749 §2.3.1).
    Post {
        client_id: &'a str,
        secret: &'a Secret,
    },
    /// `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9): a fresh assertion signed with the device
    /// key for every request, `aud` = `audience` (the issuer identifier), issued at `now`.
    PrivateKeyJwt {
        client_id: &'a str,
        key: &'a dyn ClientAssertionSigner,
        audience: &'a str,
        now: i64,
    },
}

impl<'a> ClientAuth<'a> {
    /// A secret-based method the registration response named; `None` for `private_key_jwt`,
    /// which has no secret (build [`ClientAuth::PrivateKeyJwt`] with the device key instead).
    pub fn for_secret_method(
        method: TokenEndpointAuthMethod,
        client_id: &'a str,
        secret: &'a Secret,
    ) -> Option<Self> {
        match method {
            TokenEndpointAuthMethod::ClientSecretBasic => Some(Self::Basic { client_id, secret }),
            TokenEndpointAuthMethod::ClientSecretPost => Some(Self::Post { client_id, secret }),
            TokenEndpointAuthMethod::PrivateKeyJwt => None,
        }
    }
}

/// RFC 7523 §2.2: the `client_assertion_type` of a JWT client assertion.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// T7 (RFC 6749 §2.3.1): id and secret are form-urlencoded *before* base64, and the secret is
/// never also put in the body.
pub fn basic_authorization(client_id: &str, secret: &Secret) -> Secret {
    let id: String = byte_serialize(client_id.as_bytes()).collect();
    let secret: String = byte_serialize(secret.expose().as_bytes()).collect();
    Secret::new(format!(
        "Basic {}",
        STANDARD.encode(format!("{id}:{secret}"))
    ))
}

fn form_request(
    endpoint: &Url,
    auth: &ClientAuth<'_>,
    params: &[(&str, &str)],
) -> Result<OutgoingRequest, TokenError> {
    let mut form = Serializer::new(String::new());
    for (key, value) in params {
        form.append_pair(key, value);
    }
    let authorization = match auth {
        ClientAuth::Public { client_id } => {
            form.append_pair("client_id", client_id);
            None
        }
        ClientAuth::Post { client_id, secret } => {
            form.append_pair("client_id", client_id);
            form.append_pair("client_secret", secret.expose());
            None
        }
        ClientAuth::Basic { client_id, secret } => Some(basic_authorization(client_id, secret)),
        // RFC 7523 §2.2: no `client_id` needed (the assertion's `sub` names the client), but
        // RFC 6749 §3.2.1 allows it and oidc-provider accepts either; we send only the assertion.
        ClientAuth::PrivateKeyJwt {
            client_id,
            key,
            audience,
            now,
        } => {
            let assertion = key
                .client_assertion(client_id, audience, *now)
                .map_err(TokenError::DeviceKey)?;
            form.append_pair("client_assertion_type", JWT_BEARER_ASSERTION);
            form.append_pair("client_assertion", assertion.expose());
            None
        }
    };
    Ok(OutgoingRequest {
        method: Method::Post,
        url: endpoint.clone(),
        authorization,
        content_type: Some("application/x-www-form-urlencoded"),
        body: Some(Secret::new(form.finish())),
        dpop: None,
    })
}

/// The code exchange. Consumes the pending request, so its verifier is sent once (RFC 7636
/// §4.5); returns the nonce the ID token must carry.
pub fn prepare_code_exchange(
    token_endpoint: &Url,
    pending: PendingAuthorization,
    code: AuthorizationCode,
    auth: &ClientAuth<'_>,
) -> Result<(OutgoingRequest, Secret), TokenError> {
    let (grant, nonce) = CodeGrant::new(pending, code);
    Ok((prepare_code_grant(token_endpoint, &grant, auth)?, nonce))
}

/// What a code exchange sends, taken out of the pending request. It can build the request more
/// than once for one reason only: the single retry RFC 9449 §8 asks for when the server wants a
/// DPoP nonce (the first request was refused before the code was looked at). `Debug` shows
/// nothing.
pub struct CodeGrant {
    code: Secret,
    verifier: Secret,
    redirect_uri: String,
}

impl std::fmt::Debug for CodeGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeGrant(<redacted>)")
    }
}

impl CodeGrant {
    /// Consumes the pending request; returns the grant and the nonce the ID token must carry.
    pub fn new(pending: PendingAuthorization, code: AuthorizationCode) -> (Self, Secret) {
        let PendingAuthorization {
            nonce,
            verifier,
            redirect_uri,
            ..
        } = pending;
        let grant = Self {
            code: code.0,
            verifier: verifier.into_secret(),
            redirect_uri: redirect_uri.as_str().to_owned(),
        };
        (grant, nonce)
    }
}

/// The RFC 6749 §4.1.3 request for a [`CodeGrant`], with the PKCE verifier (RFC 7636 §4.5).
pub fn prepare_code_grant(
    token_endpoint: &Url,
    grant: &CodeGrant,
    auth: &ClientAuth<'_>,
) -> Result<OutgoingRequest, TokenError> {
    form_request(
        token_endpoint,
        auth,
        &[
            ("grant_type", "authorization_code"),
            ("code", grant.code.expose()),
            ("redirect_uri", &grant.redirect_uri),
            ("code_verifier", grant.verifier.expose()),
        ],
    )
}

/// The refresh grant, with the per-install client's credentials (RFC 6749 §6).
pub fn prepare_refresh(
    token_endpoint: &Url,
    refresh_token: &Secret,
    auth: &ClientAuth<'_>,
) -> Result<OutgoingRequest, TokenError> {
    form_request(
        token_endpoint,
        auth,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ],
    )
}

/// RFC 7009 §2.1 revocation of a refresh token.
pub fn prepare_revocation(
    endpoint: &Url,
    refresh_token: &Secret,
    auth: &ClientAuth<'_>,
) -> Result<OutgoingRequest, TokenError> {
    form_request(
        endpoint,
        auth,
        &[
            ("token", refresh_token.expose()),
            ("token_type_hint", "refresh_token"),
        ],
    )
}

/// A checked token response. `Debug` shows no token values (they are [`Secret`]s).
#[derive(Debug)]
pub struct TokenResponse {
    pub access_token: Secret,
    /// `None` on refresh means "keep the old one" (F2, RFC 6749 §6).
    pub refresh_token: Option<Secret>,
    /// The raw compact JWT, still unverified: the id_token module checks it.
    pub id_token: Option<Secret>,
    /// Seconds, clamped to [`MAX_EXPIRES_IN`]; `None` when the server did not say (T6).
    pub expires_in: Option<u64>,
    pub scope: Option<String>,
}

/// Turns a non-success status into a structured error (RFC 6749 §5.2).
fn error_from(response: &CappedResponse) -> TokenError {
    match OAuthError::from_json(&response.body) {
        Some(error) if (400..500).contains(&response.status) => TokenError::Server(error),
        // §5.2 puts `invalid_client` in a JSON body, with the 401. A 401 without one may come
        // from a proxy or gateway in front of the server: not proof that the client is dead, so
        // it must not be read as `invalid_client` (which wipes the registration). The session
        // confirms with an RFC 7592 read first.
        _ if response.status == 401 => TokenError::Unauthorized,
        _ => TokenError::UnexpectedStatus(response.status),
    }
}

/// Checks a token endpoint response for a Bearer token. `expect_id_token` is true for the OIDC
/// code exchange (OIDC Core §3.1.3.3), false for the DCR login and for refresh.
pub fn token_response(
    response: CappedResponse,
    expect_id_token: bool,
) -> Result<TokenResponse, TokenError> {
    token_response_for(response, expect_id_token, false)
}

/// [`token_response`] for a request that carried a DPoP proof (`dpop`) or not. With a proof the
/// token must be `DPoP` (RFC 9449 §5): a Bearer token would mean the server ignored the proof
/// and issued a token anyone holding it can use, which is what this mode exists to prevent.
/// Without one, only Bearer (T5).
pub fn token_response_for(
    response: CappedResponse,
    expect_id_token: bool,
    dpop: bool,
) -> Result<TokenResponse, TokenError> {
    if response.status != 200 {
        return Err(error_from(&response));
    }
    // T3: HTML, invalid JSON and non-objects are all rejected.
    let value: Value =
        serde_json::from_slice(&response.body).map_err(|_| TokenError::Parse("not JSON"))?;
    let Value::Object(mut doc) = value else {
        return Err(TokenError::Parse("not an object"));
    };
    let mut take_string =
        |field: &'static str, required: bool| -> Result<Option<String>, TokenError> {
            match doc.remove(field) {
                Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
                None | Some(Value::Null) if !required => Ok(None),
                _ => Err(TokenError::MissingField(field)),
            }
        };
    // T4: required fields with the right types.
    let access_token = take_string("access_token", true)?.map(Secret::new);
    let token_type = take_string("token_type", true)?.unwrap_or_default();
    let refresh_token = take_string("refresh_token", false)?.map(Secret::new);
    let id_token = take_string("id_token", expect_id_token)?.map(Secret::new);
    let scope = take_string("scope", false)?;
    // T5 (RFC 6749 §5.1: case-insensitive): Bearer only, or DPoP only when asked for (K4).
    let expected = if dpop { "DPoP" } else { "Bearer" };
    if !token_type.eq_ignore_ascii_case(expected) {
        let got = crate::text::sanitize(&token_type, 40);
        return Err(if dpop {
            TokenError::NotBound(got)
        } else {
            TokenError::UnsupportedTokenType(got)
        });
    }
    Ok(TokenResponse {
        access_token: access_token.ok_or(TokenError::MissingField("access_token"))?,
        refresh_token,
        id_token,
        expires_in: expires_in(doc.get("expires_in")),
        scope,
    })
}

/// T6: absent or unreadable → unknown; negative → already expired; huge → clamped.
fn expires_in(value: Option<&Value>) -> Option<u64> {
    let seconds = match value? {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    if !seconds.is_finite() {
        return None;
    }
    Some(seconds.clamp(0.0, MAX_EXPIRES_IN as f64) as u64)
}

/// RFC 7009 §2.2: 200 means done (even for an unknown token).
pub fn revocation_response(response: CappedResponse) -> Result<(), TokenError> {
    if response.status == 200 {
        Ok(())
    } else {
        Err(error_from(&response))
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_device;
