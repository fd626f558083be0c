//! The loopback redirect (RFC 8252 §7.3): a one-shot HTTP listener on `127.0.0.1` (or `[::1]`)
//! and an ephemeral port, for sign-ins in the user's own browser without a private-use scheme.
//!
//! The browser is the user's, so everything that reaches the listener is untrusted: other local
//! processes can connect too, a browser sends favicon requests and idle pre-connections, and a
//! web page can make the browser request any loopback URL. Hence (security checklist X5, X6):
//!
//! - it binds the loopback interface only, never a wildcard address (§8.3);
//! - only `GET <path>?…state=<ours>` ends the wait: a wrong path or method gets 404/405, a
//!   missing or wrong `state` gets 400, and the listener keeps waiting for the real one;
//! - each connection is served on its own task with a short deadline, so an idle or slow
//!   connection cannot hold up the browser's real request;
//! - a failed `accept()` (a peer that gave up, a passing shortage of file descriptors) is
//!   logged and the wait goes on, pausing briefly after a shortage rather than spinning;
//! - the page it answers with is fixed text: no script, nothing from the request reflected,
//!   `Content-Security-Policy: default-src 'none'`, no caching, no referrer;
//! - it stops listening as soon as the callback arrived (the value is dropped), or when the
//!   caller gives up (drop the future: the sign-in timed out or was cancelled).
//!
//! The URL it returns goes through the same checks as any other redirect ([`crate::protocol::callback`]).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tracing::warn;
use url::Url;

mod agent;
#[cfg(test)]
mod tests;

pub use agent::LoopbackAgent;

/// A request line and headers larger than this are refused: a real callback is a few hundred
/// bytes, and an authorization response carries a code and a state, not a document.
const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// How long one connection may take to send its request. Browsers open idle pre-connections;
/// they are served on their own task, so this only bounds how long each task lives.
const CONNECTION_DEADLINE: Duration = Duration::from_secs(10);

/// How long the wait pauses after an accept error other than a connection's own (such as no
/// file descriptor or memory to spare): the shortage passes, and the wait does not spin on it.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// What the browser shows once the app has the callback. Fixed text only (X6).
const DONE_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Signed in</title></head><body style=\"font-family:sans-serif;margin:3em\">\
<h1>You can close this tab</h1><p>Return to the app to continue.</p></body></html>";

/// A bound listener and the redirect URI that leads to it.
pub struct LoopbackListener {
    listener: TcpListener,
    redirect_uri: Url,
}

impl LoopbackListener {
    /// Binds `127.0.0.1` on a port the system picks; `[::1]` only when IPv4 loopback cannot be
    /// bound (§7.3 recommends the IP literal over `localhost`, which may resolve elsewhere).
    /// `path` is the callback path, e.g. `/callback`.
    pub async fn bind(path: &str) -> io::Result<Self> {
        let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await {
            Ok(listener) => listener,
            Err(_) => TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).await?,
        };
        let redirect_uri = redirect_uri_for(listener.local_addr()?, path)?;
        Ok(Self {
            listener,
            redirect_uri,
        })
    }

    /// `http://127.0.0.1:<port><path>`: what the authorization request and the code exchange
    /// send as `redirect_uri`.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves connections until a `GET` on the callback path carries `state == expected`, then
    /// answers it with [`DONE_PAGE`] and returns the full callback URL. Consumes the listener,
    /// so the port is closed when this returns. Never returns for anything else, a failed
    /// `accept()` included: the caller bounds the wait (the sign-in's own timeout, or the
    /// user's Cancel).
    pub async fn accept_callback(self, expected_state: &str) -> Url {
        let Self {
            listener,
            redirect_uri,
        } = self;
        // The listener is moved in and dropped on return, so the port closes before the
        // browser is answered: once the page says "you can close this tab", nothing listens
        // there any more.
        let (url, mut stream) = wait_for_callback(listener, &redirect_uri, expected_state).await;
        let _ = write_response(&mut stream, 200, "OK", DONE_PAGE).await;
        url
    }
}

/// Where the wait gets its connections from: the bound listener, or in tests one that fails
/// on demand.
trait Acceptor {
    async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)>;
}

impl Acceptor for TcpListener {
    async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        TcpListener::accept(self).await
    }
}

/// Serves each connection on its own task until one hands over our callback. An accept error
/// never ends the wait (the caller bounds it): it is about one connection that the peer gave
/// up on, or a shortage of descriptors or memory that passes, after which the wait pauses for
/// [`ACCEPT_BACKOFF`] rather than spin. Served connections can still deliver the callback
/// during the pause.
async fn wait_for_callback(
    mut acceptor: impl Acceptor,
    redirect_uri: &Url,
    expected_state: &str,
) -> (Url, TcpStream) {
    let (found, mut callbacks) = mpsc::channel::<(Url, TcpStream)>(1);
    let pause = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(pause);
    let mut paused = false;
    loop {
        tokio::select! {
            accepted = acceptor.accept(), if !paused => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // The error's kind and OS code only: nothing from the request or URL.
                        warn!(
                            kind = %error.kind(),
                            os_error = error.raw_os_error(),
                            "accepting a connection on the loopback port failed; still waiting"
                        );
                        if !is_connection_error(&error) {
                            pause.as_mut().reset(tokio::time::Instant::now() + ACCEPT_BACKOFF);
                            paused = true;
                        }
                        continue;
                    }
                };
                if !peer.ip().is_loopback() {
                    // Cannot happen on a loopback-bound socket; refuse rather than trust it.
                    continue;
                }
                let (found, base, expected) =
                    (found.clone(), redirect_uri.clone(), expected_state.to_owned());
                tokio::spawn(async move {
                    let served = tokio::time::timeout(
                        CONNECTION_DEADLINE,
                        serve(stream, &base, &expected, found),
                    );
                    let _ = served.await;
                });
            }
            () = &mut pause, if paused => paused = false,
            Some(callback) = callbacks.recv() => return callback,
        }
    }
}

/// Errors about the one connection being accepted (its peer reset or abandoned it, or a signal
/// interrupted the call): the next accept can go ahead at once.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
    )
}

fn redirect_uri_for(addr: SocketAddr, path: &str) -> io::Result<Url> {
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    Url::parse(&format!("http://{addr}{path}"))
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidInput, error.to_string()))
}

/// What one request is, as far as the listener cares.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Our callback, with our state.
    Callback(Url),
    NotFound,
    MethodNotAllowed,
    /// The callback path, but not our state (a forged or stale request): 400, keep waiting.
    WrongState,
    Malformed,
}

/// Reads one request head and answers it, or hands our callback to the waiting listener.
async fn serve(
    mut stream: TcpStream,
    base: &Url,
    expected_state: &str,
    found: mpsc::Sender<(Url, TcpStream)>,
) {
    let head = match read_head(&mut stream).await {
        Some(head) => head,
        None => return,
    };
    match judge(&head, base, expected_state) {
        Verdict::Callback(url) => {
            let _ = found.send((url, stream)).await;
        }
        Verdict::NotFound => {
            let _ = write_response(&mut stream, 404, "Not Found", "Not found.").await;
        }
        Verdict::MethodNotAllowed => {
            let _ = write_response(&mut stream, 405, "Method Not Allowed", "Not allowed.").await;
        }
        Verdict::WrongState => {
            let _ = write_response(
                &mut stream,
                400,
                "Bad Request",
                "This sign-in response does not belong to the app's sign-in.",
            )
            .await;
        }
        Verdict::Malformed => {
            let _ = write_response(&mut stream, 400, "Bad Request", "Bad request.").await;
        }
    }
}

/// The request line and headers, up to the blank line; `None` when the peer sends too much,
/// too little, or not text.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buffer.len() + n > MAX_REQUEST_BYTES {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8(buffer).ok()
}

/// Pure: decides what a request head is. Only the request line matters; the body (if any) is
/// never read.
fn judge(head: &str, base: &Url, expected_state: &str) -> Verdict {
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Verdict::Malformed;
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Verdict::Malformed;
    }
    let Ok(url) = base.join(target) else {
        return Verdict::Malformed;
    };
    if url.path() != base.path() {
        return Verdict::NotFound;
    }
    if method != "GET" {
        return Verdict::MethodNotAllowed;
    }
    let states: Vec<_> = url
        .query_pairs()
        .filter(|(name, _)| name == "state")
        .collect();
    // Compared as received: the state is ours, random and URL-safe (RFC 6749 §10.12).
    match states.as_slice() {
        [(_, state)] if state == expected_state => Verdict::Callback(url),
        _ => Verdict::WrongState,
    }
}

async fn write_response(
    stream: &mut TcpStream,
    status: u16,
    reason: &str,
    body: &str,
) -> io::Result<()> {
    let content_type = if status == 200 {
        "text/html; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\n\
         Content-Type: {content_type}\r\n\
         Content-Length: {}\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         Cache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}
