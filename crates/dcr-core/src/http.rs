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
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(TOTAL_TIMEOUT)
        .user_agent(concat!("dcr-desktop/", env!("CARGO_PKG_VERSION")))
        .build()
        // Only fails if the TLS backend cannot initialise, which is a broken install, not bad input.
        .expect("the TLS backend failed to initialise")
}

/// A response read in full, within [`MAX_RESPONSE_BYTES`].
#[derive(Debug)]
pub struct CappedResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
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
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    if response.content_length().is_some_and(|len| len > MAX_RESPONSE_BYTES as u64) {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(CappedResponse { status, content_type, body })
}
