//! The hostile cases a real identity server will not produce, from a tiny TCP server that
//! breaks HTTP on purpose (security checklist R8, N4, D1, D2, and "back-channel calls never
//! follow redirects"). The protocol-level hostile responses are unit tests beside each engine
//! module; these prove the transport itself holds.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dcr_core::device::store::MemoryStore;
use dcr_core::platform::http::{
    back_channel_client, back_channel_client_with_timeout, send, CappedResponse, Method,
    OutgoingRequest, ReadError, SendError,
};
use dcr_core::{BrowserStep, Config, Session, UserAgent, UserAgentError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// How the server answers every request.
#[derive(Clone)]
enum Behaviour {
    /// Write these bytes, then close.
    Answer(Vec<u8>),
    /// Headers that promise a body, then the body one byte every 300 ms, forever.
    Drip,
    /// Accept the connection and never say anything.
    Silent,
    /// Stream `n` bytes of body in chunked encoding, with no Content-Length.
    ChunkedFlood(usize),
    /// Promise a 50 MB body and start sending it.
    HugeContentLength,
}

struct HostileServer {
    base: Url,
    requests: Arc<AtomicUsize>,
}

impl HostileServer {
    async fn start(behaviour: Behaviour) -> HostileServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base =
            Url::parse(&format!("http://{}/", listener.local_addr().expect("addr"))).expect("url");
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, behaviour.clone()));
            }
        });
        HostileServer { base, requests }
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("url")
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

async fn serve(mut stream: TcpStream, behaviour: Behaviour) {
    let mut request = [0u8; 4096];
    let _ = stream.read(&mut request).await;
    let result = match behaviour {
        Behaviour::Answer(bytes) => stream.write_all(&bytes).await,
        Behaviour::Silent => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(())
        }
        Behaviour::Drip => {
            let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n";
            let mut result = stream.write_all(head).await;
            for _ in 0..200 {
                if result.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                result = stream.write_all(b" ").await;
            }
            result
        }
        Behaviour::ChunkedFlood(total) => {
            let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            let mut result = stream.write_all(head).await;
            let chunk = vec![b'x'; 64 * 1024];
            let mut sent = 0;
            while result.is_ok() && sent < total {
                result = stream
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .await;
                if result.is_ok() {
                    result = stream.write_all(&chunk).await;
                }
                if result.is_ok() {
                    result = stream.write_all(b"\r\n").await;
                }
                sent += chunk.len();
            }
            result
        }
        Behaviour::HugeContentLength => {
            let head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 52428800\r\n\r\n";
            let mut result = stream.write_all(head).await;
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..800 {
                if result.is_err() {
                    break;
                }
                result = stream.write_all(&chunk).await;
            }
            result
        }
    };
    let _ = result;
}

fn json_answer(status: &str, body: &str) -> Behaviour {
    Behaviour::Answer(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

fn get(url: Url) -> OutgoingRequest {
    OutgoingRequest {
        method: Method::Get,
        url,
        authorization: None,
        content_type: None,
        body: None,
        dpop: None,
    }
}

/// R8: the answer to a GET must be refused as too large (the cap), not read to its end.
async fn assert_too_large(behaviour: Behaviour) {
    let server = HostileServer::start(behaviour).await;
    let outcome = send(&back_channel_client(), get(server.url("token"))).await;
    assert!(
        matches!(outcome, Err(SendError::Read(ReadError::TooLarge))),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn r8_a_50_mb_body_is_refused_before_it_is_read() {
    assert_too_large(Behaviour::HugeContentLength).await;
}

#[tokio::test]
async fn r8_a_chunked_body_past_the_cap_is_cut_off() {
    assert_too_large(Behaviour::ChunkedFlood(8 * 1024 * 1024)).await;
}

/// N4: a GET with a 1 s timeout, which must end well within 5 s whatever the server does.
async fn get_with_a_one_second_timeout(behaviour: Behaviour) -> Result<CappedResponse, SendError> {
    let server = HostileServer::start(behaviour).await;
    let started = Instant::now();
    let outcome = send(
        &back_channel_client_with_timeout(Duration::from_secs(1)),
        get(server.url("token")),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    outcome
}

#[tokio::test]
async fn n4_a_server_that_never_answers_times_out() {
    let outcome = get_with_a_one_second_timeout(Behaviour::Silent).await;
    assert!(
        matches!(
            outcome,
            Err(SendError::Unreachable {
                reason: "the request timed out",
                ..
            })
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn n4_a_slow_drip_body_times_out() {
    let outcome = get_with_a_one_second_timeout(Behaviour::Drip).await;
    assert!(
        outcome.is_err(),
        "a body dripping for a minute was accepted"
    );
}

#[tokio::test]
async fn back_channel_calls_never_follow_redirects() {
    let elsewhere = HostileServer::start(json_answer("200 OK", "{}")).await;
    let redirect = format!(
        "HTTP/1.1 302 Found\r\nlocation: {}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        elsewhere.url("steal")
    );
    let server = HostileServer::start(Behaviour::Answer(redirect.into_bytes())).await;
    let response = send(&back_channel_client(), get(server.url("token")))
        .await
        .expect("a response");
    assert_eq!(response.status, 302);
    // No waiting for something not to happen: a request of our own to `elsewhere` is the
    // definite later event. Its listener accepts connections in the order they arrive and
    // counts each on accept, so a followed redirect, sent before `send` returned, would be
    // counted before ours.
    send(&back_channel_client(), get(elsewhere.url("after")))
        .await
        .expect("our own request to the other server");
    assert_eq!(elsewhere.requests(), 1, "the redirect was followed");
}

/// A user agent that must never be reached: the engine has to fail before any browser step.
struct NoBrowser;

#[dcr_core::async_trait]
impl UserAgent for NoBrowser {
    async fn authorize(&self, _step: BrowserStep) -> Result<Url, UserAgentError> {
        panic!("the browser was opened although discovery failed");
    }
}

async fn register_against(server: &HostileServer) -> dcr_core::Error {
    let issuer = server.url("oauth/v2/oauth-anonymous");
    let config = Config::from_json(
        &serde_json::json!({
            "issuer": issuer.as_str(),
            "registrationClientID": "mobile-dcr-client",
            "redirectUri": "io.curity.dcrclient:/callback",
            "postLogoutRedirectUri": "io.curity.dcrclient:/logoutcallback",
            "scope": "openid profile"
        })
        .to_string(),
    )
    .expect("valid config");
    let session = Session::new(config, back_channel_client(), Box::new(MemoryStore::new()));
    let error = session
        .register(&NoBrowser)
        .await
        .expect_err("a hostile discovery document was accepted");
    let state = session.state().await.expect("state");
    assert_eq!(
        state.state,
        dcr_core::session::StateName::Unregistered,
        "nothing was stored"
    );
    error
}

#[tokio::test]
async fn d1_metadata_for_another_issuer_aborts_before_any_login() {
    let body = r#"{"issuer":"http://127.0.0.1:1/evil","authorization_endpoint":"http://127.0.0.1:1/auth","token_endpoint":"http://127.0.0.1:1/token","jwks_uri":"http://127.0.0.1:1/jwks","registration_endpoint":"http://127.0.0.1:1/register"}"#;
    let server = HostileServer::start(json_answer("200 OK", body)).await;
    let error = register_against(&server).await;
    assert_eq!(error.kind(), "discovery", "{}", error.message());
}

#[tokio::test]
async fn d2_an_html_page_instead_of_metadata_is_a_clear_error() {
    let page = "<html><body>Welcome to our portal</body></html>";
    let answer = format!("HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}", page.len());
    let server = HostileServer::start(Behaviour::Answer(answer.into_bytes())).await;
    let error = register_against(&server).await;
    assert_eq!(error.kind(), "discovery", "{}", error.message());
    assert!(
        !error.message().contains("<html>"),
        "the page is not echoed: {}",
        error.message()
    );
}

#[tokio::test]
async fn a_server_error_on_discovery_is_reported_not_retried_forever() {
    let server = HostileServer::start(json_answer(
        "503 Service Unavailable",
        r#"{"error":"temporarily_unavailable"}"#,
    ))
    .await;
    let error = register_against(&server).await;
    assert_eq!(error.kind(), "discovery", "{}", error.message());
    assert!(
        server.requests() <= 3,
        "bounded retries, got {}",
        server.requests()
    );
}
