//! N2: the back channel's TLS, against a real TLS server whose certificate comes from a CA made
//! at test time. The `dcr` binary is the client, so the trust store is exactly the one the app
//! builds ([`dcr_core::platform::http::back_channel_client`]: reqwest, rustls, rustls-native-certs). That
//! store is the OS's, or, when `SSL_CERT_FILE` is set, the PEM file it names instead
//! (rustls-native-certs 0.8 `load_native_certs`), which is how a test or a deployment trusts a
//! private CA without touching the system.
//!
//! `dcr register` reads discovery before anything else, so the first back-channel request is
//! the TLS handshake under test. When it succeeds the CLI goes on to the browser step, which
//! the test cancels with an empty line: `error[cancelled]` then proves the connection was
//! trusted, and `error[unreachable]` with no request served proves it was refused.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dcr_core::device::store::{KeychainStore, RegistrationStore, StoreKey};
use dcr_tests::cli::cli_binary;
use dcr_tests::engine::{POST_LOGOUT_URI, REDIRECT_URI, REGISTRATION_CLIENT};
use dcr_tests::keyring::require_test_keyring;
use dcr_tests::tls::TestCa;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio_rustls::TlsAcceptor;

const ISSUER_PATH: &str = "/oauth/v2/oauth-anonymous";

/// A CA made now, and a server certificate it signs.
struct Pki {
    ca: TestCa,
    leaf: CertificateDer<'static>,
    leaf_key: PrivateKeyDer<'static>,
}

impl Pki {
    /// A leaf for `names` (DNS names or IP addresses) from a fresh CA.
    fn new(names: &[&str]) -> Pki {
        let ca = TestCa::new();
        let leaf = ca.leaf(names);
        Pki {
            ca,
            leaf: CertificateDer::from(leaf.cert_der),
            leaf_key: PrivatePkcs8KeyDer::from(leaf.key_der).into(),
        }
    }
}

/// An identity server that serves its discovery document over TLS and counts what it saw.
struct TlsServer {
    port: u16,
    /// Connections accepted, and HTTP requests answered after a completed handshake.
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

impl TlsServer {
    async fn start(pki: &Pki) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![pki.leaf.clone()], pki.leaf_key.clone_key())
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (connections, requests) = (Arc::default(), Arc::default());
        let server = TlsServer {
            port,
            connections: Arc::clone(&connections),
            requests: Arc::clone(&requests),
        };
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                let (acceptor, requests) = (acceptor.clone(), requests.clone());
                tokio::spawn(async move {
                    // A refused certificate ends the handshake here, on the client's alert.
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 2048];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    requests.fetch_add(1, Ordering::SeqCst);
                    let line = String::from_utf8_lossy(&request);
                    let path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or_default()
                        .to_owned();
                    let response = answer(port, &path);
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        server
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn issuer(port: u16) -> String {
    format!("https://localhost:{port}{ISSUER_PATH}")
}

/// The discovery document (everything the engine requires), or 404.
fn answer(port: u16, path: &str) -> String {
    let (status, body) = if path == format!("{ISSUER_PATH}/.well-known/openid-configuration") {
        let issuer = issuer(port);
        let doc = serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/auth"),
            "token_endpoint": format!("{issuer}/token"),
            "jwks_uri": format!("{issuer}/jwks"),
            "registration_endpoint": format!("{issuer}/reg"),
            "authorization_response_iss_parameter_supported": true,
        });
        ("200 OK", doc.to_string())
    } else {
        ("404 Not Found", "{}".to_owned())
    };
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// A config for the server, and the CA's PEM file, in a folder removed on drop.
struct Files {
    dir: PathBuf,
}

impl Files {
    fn new(server: &TlsServer, pki: &Pki) -> Files {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!("dcr-tls-test-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = serde_json::json!({
            "issuer": issuer(server.port),
            "registrationClientID": REGISTRATION_CLIENT,
            "redirectUri": REDIRECT_URI,
            "postLogoutRedirectUri": POST_LOGOUT_URI,
            "scope": "openid profile",
        });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        std::fs::write(dir.join("ca.pem"), pki.ca.ca_pem()).unwrap();
        // No entry for this issuer may make `register` a no-op (an earlier run, same port).
        let key = StoreKey::new(
            &issuer(server.port),
            REGISTRATION_CLIENT,
            REDIRECT_URI,
            None,
        );
        KeychainStore::new().delete(&key).unwrap();
        Files { dir }
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `dcr register`, cancelling the browser step if it gets that far. `ca`: the PEM file for
/// `SSL_CERT_FILE`, or `None` for the OS trust store. Returns the error kind and message.
async fn register(files: &Files, ca: Option<&Path>) -> (String, String) {
    let mut command = Command::new(cli_binary());
    command
        .arg("--config")
        .arg(files.dir.join("config.json"))
        .arg("register")
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(ca) = ca {
        command.env("SSL_CERT_FILE", ca);
    }
    let mut child = command.spawn().expect("dcr starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut errors = Vec::new();
    let session = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("open: ") {
                // The browser step: the user cancels.
                stdin.write_all(b"\n").await.unwrap();
                stdin.flush().await.unwrap();
            } else {
                errors.push(line);
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), session)
        .await
        .expect("dcr finished within a minute");
    let status = child.wait().await.unwrap();
    assert_eq!(status.code(), Some(1), "{errors:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let rest = errors[0].strip_prefix("error[").expect("error[<kind>]: …");
    let (kind, message) = rest.split_once("]: ").expect("error[<kind>]: …");
    (kind.to_owned(), message.to_owned())
}

#[tokio::test]
async fn n2_a_private_ca_is_refused_by_default_and_trusted_through_ssl_cert_file() {
    require_test_keyring("n2_a_private_ca_is_refused_by_default_and_trusted_through_ssl_cert_file");
    let pki = Pki::new(&["localhost", "127.0.0.1"]);
    let server = TlsServer::start(&pki).await;
    let files = Files::new(&server, &pki);

    // The OS trust store does not know the test CA: the handshake fails, nothing is asked.
    let (kind, message) = register(&files, None).await;
    assert_eq!(kind, "unreachable", "{message}");
    assert!(message.contains("certificate"), "{message}");
    assert!(server.connections() >= 1, "the client did connect");
    assert_eq!(
        server.requests(),
        0,
        "no request over an untrusted connection"
    );

    // The same server with the CA in the trust store the app uses: discovery is read and the
    // CLI goes on to the browser step (cancelled there).
    let (kind, message) = register(&files, Some(&files.dir.join("ca.pem"))).await;
    assert_eq!(kind, "cancelled", "{message}");
    assert_eq!(server.requests(), 1, "the discovery request");
}

#[tokio::test]
async fn n2_a_certificate_for_another_host_is_refused_even_from_a_trusted_ca() {
    require_test_keyring("n2_a_certificate_for_another_host_is_refused_even_from_a_trusted_ca");
    let pki = Pki::new(&["idp.other.example"]);
    let server = TlsServer::start(&pki).await;
    let files = Files::new(&server, &pki);
    for ca in [None, Some(files.dir.join("ca.pem"))] {
        let (kind, message) = register(&files, ca.as_deref()).await;
        assert_eq!(kind, "unreachable", "{ca:?}: {message}");
        assert!(message.contains("certificate"), "{message}");
    }
    assert!(server.connections() >= 2);
    assert_eq!(server.requests(), 0);
}
