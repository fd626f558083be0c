//! The loopback listener against real TCP connections on this machine (X5, X6).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::*;

fn base() -> Url {
    Url::parse("http://127.0.0.1:5000/callback").unwrap()
}

fn head(request_line: &str) -> String {
    format!("{request_line}\r\nHost: 127.0.0.1\r\n\r\n")
}

#[test]
fn x5_only_a_get_on_the_callback_path_with_our_state_is_the_callback() {
    let verdict = judge(
        &head("GET /callback?code=abc&state=ours&iss=x HTTP/1.1"),
        &base(),
        "ours",
    );
    let Verdict::Callback(url) = verdict else {
        panic!("{verdict:?}")
    };
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:5000/callback?code=abc&state=ours&iss=x"
    );
    let cases = [
        ("GET /favicon.ico HTTP/1.1", Verdict::NotFound),
        (
            "GET /callback/../other?state=ours HTTP/1.1",
            Verdict::NotFound,
        ),
        ("GET /callbackx?state=ours HTTP/1.1", Verdict::NotFound),
        (
            "POST /callback?state=ours HTTP/1.1",
            Verdict::MethodNotAllowed,
        ),
        ("GET /callback?code=abc HTTP/1.1", Verdict::WrongState),
        (
            "GET /callback?code=abc&state=theirs HTTP/1.1",
            Verdict::WrongState,
        ),
        (
            "GET /callback?state=ours&state=ours HTTP/1.1",
            Verdict::WrongState,
        ),
        (
            "GET http://evil.example/callback?state=ours HTTP/1.1",
            Verdict::Malformed,
        ),
        ("GET /callback?state=ours", Verdict::Malformed),
        ("GET /callback?state=ours SPDY/3", Verdict::Malformed),
        ("", Verdict::Malformed),
    ];
    for (line, expected) in cases {
        assert_eq!(judge(&head(line), &base(), "ours"), expected, "{line}");
    }
}

#[tokio::test]
async fn x5_the_listener_is_on_loopback_with_an_ephemeral_port() {
    let listener = LoopbackListener::bind("/callback").await.unwrap();
    let addr = listener.local_addr().unwrap();
    assert!(addr.ip().is_loopback());
    assert_ne!(addr.port(), 0);
    assert_eq!(
        listener.redirect_uri().as_str(),
        format!("http://{addr}/callback")
    );
}

async fn request(addr: SocketAddr, raw: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}

#[tokio::test]
async fn x5_x6_noise_is_refused_the_real_callback_ends_the_wait_and_the_port_closes() {
    let listener = LoopbackListener::bind("/callback").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let waiting = tokio::spawn(listener.accept_callback("state-123"));

    // An idle pre-connection (browsers open them) must not hold anything up.
    let _idle = TcpStream::connect(addr).await.unwrap();
    let answer = request(addr, &head("GET /favicon.ico HTTP/1.1")).await;
    assert!(answer.starts_with("HTTP/1.1 404 "), "{answer}");
    let answer = request(addr, &head("POST /callback?state=state-123 HTTP/1.1")).await;
    assert!(answer.starts_with("HTTP/1.1 405 "), "{answer}");
    let forged = "GET /callback?code=forged-code&state=<script>alert(1)</script> HTTP/1.1";
    let answer = request(addr, &head(forged)).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(
        !answer.contains("forged-code") && !answer.contains("<script>"),
        "{answer}"
    );
    // An oversized request is dropped without an answer.
    let huge = format!("GET /callback?x={} HTTP/1.1\r\n\r\n", "a".repeat(20_000));
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let _ = stream.write_all(huge.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    assert!(answer.is_empty());
    assert!(!waiting.is_finished(), "none of that ended the wait");

    let answer = request(
        addr,
        &head("GET /callback?code=the-code&state=state-123&iss=https%3A%2F%2Fidp HTTP/1.1"),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.contains("You can close this tab"));
    assert!(answer.contains("Content-Security-Policy: default-src 'none'"));
    assert!(
        !answer.contains("<script") && !answer.contains("the-code"),
        "{answer}"
    );

    let url = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the callback ended the wait")
        .unwrap();
    assert_eq!(
        url.query_pairs().find(|(k, _)| k == "code").unwrap().1,
        "the-code"
    );
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the listener is gone after the flow"
    );
}

#[tokio::test]
async fn x5_dropping_the_wait_closes_the_port() {
    let listener = LoopbackListener::bind("callback").await.unwrap();
    let addr = listener.local_addr().unwrap();
    assert!(listener.redirect_uri().path() == "/callback");
    let waiting = listener.accept_callback("s");
    // The sign-in's timeout, or the user's Cancel, drops the future.
    assert!(tokio::time::timeout(Duration::from_millis(50), waiting)
        .await
        .is_err());
    assert!(TcpStream::connect(addr).await.is_err());
}

/// EMFILE on Linux and macOS: the process is out of file descriptors for a moment.
const EMFILE: i32 = 24;

/// A listener whose first accepts fail with `errors`, in order, then accepts for real. Records
/// when each accept was asked for.
struct FailingFirst {
    listener: TcpListener,
    errors: Vec<io::Error>,
    calls: std::sync::Arc<std::sync::Mutex<Vec<std::time::Instant>>>,
}

impl Acceptor for FailingFirst {
    async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        self.calls.lock().unwrap().push(std::time::Instant::now());
        if self.errors.is_empty() {
            return self.listener.accept().await;
        }
        Err(self.errors.remove(0))
    }
}

/// An accept error is about one connection (the peer gave up) or a passing shortage (no file
/// descriptor free): the wait goes on, and after a shortage it pauses rather than spin.
#[tokio::test]
async fn x5_a_failed_accept_does_not_end_the_wait() {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let base = redirect_uri_for(addr, "/callback").unwrap();
    let calls = std::sync::Arc::default();
    let acceptor = FailingFirst {
        listener,
        errors: vec![
            io::Error::from(io::ErrorKind::ConnectionAborted),
            io::Error::from_raw_os_error(EMFILE),
            io::Error::from_raw_os_error(EMFILE),
        ],
        calls: std::sync::Arc::clone(&calls),
    };
    let waiting =
        tokio::spawn(async move { wait_for_callback(acceptor, &base, "state-1").await.0 });
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let callback = head("GET /callback?code=c&state=state-1 HTTP/1.1");
    stream.write_all(callback.as_bytes()).await.unwrap();
    let url = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("an accept error does not end the wait, the callback does")
        .unwrap();
    assert_eq!(url.path(), "/callback");
    let calls = calls.lock().unwrap();
    assert!(calls.len() >= 4, "three failures, then the callback");
    for shortage in [1, 2] {
        assert!(
            calls[shortage + 1] - calls[shortage] >= ACCEPT_BACKOFF,
            "a pause after the shortage, not a busy loop"
        );
    }
}
