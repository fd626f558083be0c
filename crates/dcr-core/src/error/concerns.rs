//! The per-concern error enums. Every `Display` text is safe to show: fixed wording plus
//! sanitized server text, never a URL that could carry a code and never a secret.

use super::DeviceKeyError;
use super::OAuthError;
use crate::platform::http::SendError;

/// `config.json` could not be used. Every message names the key and says how to fix it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("the config file is not valid JSON ({reason}); fix the syntax near that position")]
    Syntax { reason: String },
    #[error("config key `{key}` is not recognised; remove it or fix its spelling (keys are case-sensitive; known keys: {known})")]
    UnknownKey { key: String, known: &'static str },
    #[error("config key `{key}` is required; add it, for example \"{key}\": {example}")]
    Missing {
        key: &'static str,
        example: &'static str,
    },
    #[error("config key `{key}` is invalid: {reason}")]
    Invalid { key: &'static str, reason: String },
}

/// The provider metadata (OpenID Connect Discovery 1.0) could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    #[error(transparent)]
    Transport(SendError),
    #[error("the discovery document answered with HTTP status {0}; check `issuer` in the config")]
    UnexpectedStatus(u16),
    #[error("the discovery document is not a JSON object ({0}); check `issuer` in the config")]
    Parse(String),
    /// D1 (Discovery 1.0 §4.3): compared exactly, including a trailing slash.
    #[error("the server says its issuer is \"{actual}\" but the config says \"{expected}\"; they must match exactly, including any trailing slash")]
    IssuerMismatch { expected: String, actual: String },
    /// D2: a required endpoint is missing or not a URL.
    #[error(
        "the discovery document has no valid `{0}`; this server cannot be used for DCR sign-in"
    )]
    MissingEndpoint(&'static str),
    /// D3 (RFC 9700 §2.6): plain http is only acceptable on loopback.
    #[error("the discovery document's `{0}` uses http:// on a non-loopback host; only https is accepted")]
    InsecureEndpoint(&'static str),
}

/// The redirect the browser ended on was not an acceptable authorization response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    #[error("sign-in was cancelled")]
    Cancelled,
    /// RFC 6749 §4.1.2.1 `access_denied`: the user (or a policy) declined.
    #[error("sign-in was declined{}", .description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    AccessDenied { description: Option<String> },
    /// Any other RFC 6749 §4.1.2.1 error, kept structured.
    #[error("the identity server refused the sign-in: {0}")]
    Server(OAuthError),
    /// A1, X1 (RFC 8252 §8.9): the response belongs to some other request.
    #[error("the sign-in response does not belong to the request this app made (state mismatch); try again")]
    StateMismatch,
    /// A2 (RFC 9207 §2.4).
    #[error(
        "the sign-in response names a different issuer than the configured one; it was rejected"
    )]
    IssuerMismatch,
    /// A2: the server advertises `authorization_response_iss_parameter_supported` but sent no `iss`.
    #[error("the sign-in response has no `iss` although the server promises one (RFC 9207); it was rejected")]
    IssuerMissing,
    /// X3 (RFC 8252 §8.10): scheme, host, port and path must match the configured redirect URI.
    #[error("the sign-in ended on an address that is not this app's redirect URI")]
    RedirectMismatch,
    /// A5 (RFC 9700 §2.1.2): this app uses the code flow; tokens in the front channel are an attack.
    #[error("the sign-in response carries tokens in the browser URL, which this app never asks for; it was rejected")]
    TokensInFrontChannel,
    /// X3: giant URLs, NUL bytes, repeated parameters (RFC 6749 §3.1).
    #[error("the sign-in response is malformed ({0})")]
    Malformed(&'static str),
    #[error("the sign-in response has no authorization code")]
    MissingCode,
}

/// The token endpoint (RFC 6749 §5) did not give usable tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    #[error(transparent)]
    Transport(SendError),
    /// RFC 6749 §5.2 error body, kept structured.
    #[error("the token endpoint refused the request: {0}")]
    Server(OAuthError),
    #[error("the token endpoint answered with unexpected HTTP status {0}")]
    UnexpectedStatus(u16),
    /// A 401 without an OAuth error body (a proxy or gateway, perhaps): retryable, and never
    /// taken as `invalid_client` on its own.
    #[error("the token endpoint answered HTTP 401 without saying why (perhaps a proxy or gateway in the way); this device's registration was kept, try again later")]
    Unauthorized,
    /// T3: HTML, invalid JSON, not an object.
    #[error("the token endpoint's response is not a JSON object ({0})")]
    Parse(&'static str),
    /// T4 (OIDC Core §3.1.3.3).
    #[error("the token response has no valid `{0}`")]
    MissingField(&'static str),
    /// T5: only Bearer (case-insensitive) is used by this app (RFC 6750).
    #[error(
        "the token endpoint issued an unsupported token type \"{0}\"; only Bearer is accepted"
    )]
    UnsupportedTokenType(String),
    /// K4 (RFC 9449 §5): a DPoP proof was sent, so the token must be bound to it.
    #[error("the token endpoint issued a \"{0}\" token although this app asked for one bound to this device (DPoP); it was not used")]
    NotBound(String),
    /// The device key could not sign the client assertion: nothing was sent.
    #[error(transparent)]
    DeviceKey(DeviceKeyError),
}

/// The ID token failed validation (OIDC Core §3.1.3.7). Never includes the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    #[error(transparent)]
    Transport(SendError),
    #[error("the key set (jwks_uri) answered with HTTP status {0}")]
    JwksStatus(u16),
    #[error("the key set (jwks_uri) is not a JSON key set")]
    JwksParse,
    #[error("the ID token is not a well-formed signed JWT ({0})")]
    Malformed(&'static str),
    /// I2: `alg: none` is never accepted.
    #[error("the ID token is unsigned (alg none)")]
    Unsigned,
    /// HMAC algorithms would be keyed with something public here (a public client, or a secret
    /// the server also knows), so they are refused outright.
    #[error("the ID token uses a symmetric algorithm ({0}), which this app does not accept")]
    SymmetricAlgorithm(String),
    #[error("the ID token uses an algorithm this app does not accept ({0})")]
    UnsupportedAlgorithm(String),
    #[error("the ID token header has critical extensions this app does not understand")]
    CriticalHeader,
    /// The ID token could not be checked because the key set could not be had: `jwks_uri`
    /// unreachable or answering an error even after one retry, or the signing key still missing
    /// from a key set fetched just now (D6). Unlike every other variant this
    /// says nothing against the token, so it is retryable; the cause is kept for the message.
    #[error("the identity server's signing keys could not be loaded, so the ID token could not be checked ({0}); try again in a moment")]
    KeysUnavailable(Box<IdTokenError>),
    /// D6: the key id is not in the key set (the session refetches once).
    #[error("the ID token is signed with a key the server does not publish")]
    UnknownKey,
    /// I1.
    #[error("the ID token's signature is invalid")]
    BadSignature,
    /// I4.
    #[error("the ID token's issuer does not match the configured issuer")]
    IssuerMismatch,
    /// I5.
    #[error("the ID token is not addressed to this app (aud)")]
    AudienceMismatch,
    /// I5: additional audiences that this client does not trust.
    #[error("the ID token is also addressed to other parties (aud)")]
    UntrustedAudience,
    #[error("the ID token's authorized party (azp) is not this app")]
    AuthorizedPartyMismatch,
    /// I6, and OIDC Core §12.2 on refresh.
    #[error("the ID token's subject (sub) is missing or changed")]
    SubjectMismatch,
    /// I8.
    #[error("the ID token has expired (exp)")]
    Expired,
    #[error("the ID token's issue time (iat) is missing or outside the accepted window")]
    IssuedAt,
    /// I9.
    #[error("the ID token's nonce does not match this sign-in")]
    NonceMismatch,
    #[error("the ID token's claim `{0}` is missing or has the wrong type")]
    Claim(&'static str),
}

/// The UserInfo response (OIDC Core §5.3) could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserInfoError {
    #[error(transparent)]
    Transport(SendError),
    #[error("the UserInfo endpoint answered with HTTP status {0}")]
    UnexpectedStatus(u16),
    #[error("the UserInfo response is not a JSON object")]
    Parse,
    /// I12 (OIDC Core §5.3.2): the response is about someone else.
    #[error("the UserInfo response is about a different user (sub); it was discarded")]
    SubjectMismatch,
    /// K4 (RFC 9449 §7.1): the UserInfo endpoint refused this device's DPoP proof.
    #[error(
        "the UserInfo endpoint refused this device's proof of possession (invalid_dpop_proof)"
    )]
    InvalidDpopProof,
}

/// The post-logout redirect (RP-Initiated Logout 1.0 §3) was not ours.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogoutError {
    /// L3: wrong, missing or replayed `state`.
    #[error("the logout response does not belong to this logout (state mismatch)")]
    StateMismatch,
    #[error("the logout ended on an address that is not this app's post-logout redirect URI")]
    RedirectMismatch,
}

/// What a user agent (embedded window, system browser, manual CLI) reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserAgentError {
    /// The user closed the window or entered nothing: not an error screen.
    #[error("the browser step was cancelled")]
    Cancelled,
    /// The window could not be opened, or similar. The text must contain no URL.
    #[error("the browser step failed: {0}")]
    Failed(String),
    /// The sign-in page could not be loaded because the identity server did not answer
    /// (the server died before the window's step). Kind `unreachable`, not
    /// `userAgent`: the window works, the server does not, and trying again later helps.
    #[error("the sign-in page could not be loaded: the identity server did not answer")]
    Unreachable,
}
