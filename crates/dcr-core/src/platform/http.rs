//! The back-channel HTTP client and a size-capped body reader.
//!
//! reqwest follows redirects and has no timeout by default. Every back-channel call (discovery,
//! JWKS, token, registration, userinfo) goes through a client built here, which never follows a
//! redirect (a 3xx from the token endpoint is an error, not a hop to wherever the server says),
//! and has connect and total timeouts (security checklist N4, R8).

use std::time::Duration;

/// Largest response body the engine reads from any endpoint (R8: a 50 MB body is refused).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TOTAL_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds the client every engine call uses: no redirects, bounded time, OS trust store.
pub fn back_channel_client() -> reqwest::Client {
    back_channel_client_with_timeout(TOTAL_TIMEOUT)
}

/// The same client with another total timeout (the hostile-server tests use a short one to
/// prove a server that never finishes its answer cannot hang the app, N4).
pub fn back_channel_client_with_timeout(total: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT.min(total))
        .timeout(total)
        .user_agent(concat!("dcr-desktop/", env!("CARGO_PKG_VERSION")))
        .build()
        // Only fails if the TLS backend cannot initialise, which is a broken install, not bad input.
        .expect("the TLS backend failed to initialise")
}

/// A response read in full, within [`MAX_RESPONSE_BYTES`].
#[derive(Debug, Default)]
pub struct CappedResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The `DPoP-Nonce` header (RFC 9449 §8): the nonce the server wants in the next proof.
    pub dpop_nonce: Option<String>,
    /// The `WWW-Authenticate` header: a resource server's DPoP errors (`use_dpop_nonce`,
    /// `invalid_dpop_proof`) come only here (RFC 9449 §7.1, §9), not in a body.
    pub www_authenticate: Option<String>,
}

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    #[error("the server's response was larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    #[error("the connection failed while reading the response")]
    Transport(#[source] reqwest::Error),
}

/// Reads the body chunk by chunk and stops as soon as it passes the cap, so a hostile server
/// cannot make us buffer an unbounded body (R8).
pub async fn read_capped(mut response: reqwest::Response) -> Result<CappedResponse, ReadError> {
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE.as_str());
    // A nonce is an opaque printable token (RFC 9449 §8.1 NQCHAR); anything else is ignored.
    let dpop_nonce = header("dpop-nonce")
        .filter(|nonce| nonce.len() <= 1024 && nonce.bytes().all(|b| (0x21..=0x7e).contains(&b)));
    let www_authenticate = header(reqwest::header::WWW_AUTHENTICATE.as_str());
    if response
        .content_length()
        .is_some_and(|len| len > MAX_RESPONSE_BYTES as u64)
    {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(CappedResponse {
        status,
        content_type,
        body,
        dpop_nonce,
        www_authenticate,
    })
}

/// The HTTP methods the engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    /// RFC 7592 §2.2 client update (device key rotation).
    Put,
    Delete,
}

/// A request built by a pure `prepare_*` function, sent by [`send`].
///
/// It is plain data so unit tests can assert the exact request (as oauth4webapi's tests do)
/// without a network. `Debug` shows the method and URL only: the body and the `Authorization`
/// header carry codes, verifiers and secrets.
pub struct OutgoingRequest {
    pub method: Method,
    pub url: url::Url,
    /// The full `Authorization` header value, e.g. `Bearer …` or `Basic …`.
    pub authorization: Option<crate::Secret>,
    /// `application/x-www-form-urlencoded` or `application/json`.
    pub content_type: Option<&'static str>,
    pub body: Option<crate::Secret>,
    /// The `DPoP` header: a proof of possession of this install's key (RFC 9449 §4.1).
    pub dpop: Option<crate::Secret>,
}

impl std::fmt::Debug for OutgoingRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingRequest")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

/// Why a request got no readable response.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    #[error("could not reach {host}: {reason}")]
    Unreachable { host: String, reason: &'static str },
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// Sends a prepared request with the back-channel client and reads the capped response.
pub async fn send(
    client: &reqwest::Client,
    request: OutgoingRequest,
) -> Result<CappedResponse, SendError> {
    let host = request.url.host_str().unwrap_or("the server").to_owned();
    let method = match request.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Delete => reqwest::Method::DELETE,
    };
    let mut builder = client
        .request(method, request.url.clone())
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(authorization) = &request.authorization {
        builder = builder.header(reqwest::header::AUTHORIZATION, authorization.expose());
    }
    if let Some(proof) = &request.dpop {
        builder = builder.header("DPoP", proof.expose());
    }
    if let Some(content_type) = request.content_type {
        builder = builder.header(reqwest::header::CONTENT_TYPE, content_type);
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.expose().to_owned());
    }
    // The reqwest error is not kept: its Display can include the full URL, and a future caller
    // might put a secret in a query. The reason below is enough for the user and for logs.
    let response = builder
        .send()
        .await
        .map_err(|error| SendError::Unreachable {
            host,
            reason: if error.is_timeout() {
                "the request timed out"
            } else if is_certificate_error(&error) {
                // N2: said apart from "refused", because trying again will not help.
                "its TLS certificate was refused (not from a trusted authority, expired, or for another host name)"
            } else if error.is_connect() {
                "the connection was refused or the host could not be found"
            } else {
                "the request failed"
            },
        })?;
    Ok(read_capped(response).await?)
}

/// Whether a rustls certificate check failed somewhere in the error's chain. tokio-rustls puts
/// the `rustls::Error` inside an `io::Error`, whose `source()` skips it, so those are opened.
fn is_certificate_error(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(error) = current {
        if let Some(tls) = error.downcast_ref::<rustls::Error>() {
            return matches!(tls, rustls::Error::InvalidCertificate(_));
        }
        if let Some(inner) = error
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            if is_certificate_error(inner) {
                return true;
            }
        }
        current = error.source();
    }
    false
}

/// Sends prepared requests. The session holds one; production uses [`reqwest::Client`] (built
/// with [`back_channel_client`]), and unit tests use a closure-backed fake server, so the whole
/// state machine runs without a network.
#[async_trait::async_trait]
pub trait Transport: Send + Sync {
    async fn send(&self, request: OutgoingRequest) -> Result<CappedResponse, SendError>;
}

#[async_trait::async_trait]
impl Transport for reqwest::Client {
    async fn send(&self, request: OutgoingRequest) -> Result<CappedResponse, SendError> {
        send(self, request).await
    }
}
