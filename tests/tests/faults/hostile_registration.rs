//! Over real HTTP: a registration endpoint that answers 201 with a body the engine refuses has
//! still created a client. The engine must delete it again (RFC 7592 §2.3) with the registration
//! access token from that body, at the `registration_client_uri` it named, store nothing, and
//! say so. The bundled identity server never sends such bodies, so a purpose-built one does:
//! discovery, the token endpoint (for the DCR token), registration and client management, on
//! loopback. The browser step is a fake user agent that returns the callback URL at once.

use std::sync::{Arc, Mutex};

use dcr_core::device::store::MemoryStore;
use dcr_core::platform::http::back_channel_client;
use dcr_core::session::StateName;
use dcr_core::{BrowserStep, Config, Session, UserAgent, UserAgentError};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

const ISSUER_PATH: &str = "/oauth/v2/oauth-anonymous";
const REDIRECT: &str = "io.curity.dcrclient:/callback";
const RAT: &str = "rat-5f0c2a9e-0b7d-4a51-8a5e-1d2b3c4d5e6f";

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
}

struct RegistrationServer {
    base: Url,
    /// The 201 body for the next registration.
    body: Arc<Mutex<Value>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl RegistrationServer {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base =
            Url::parse(&format!("http://{}", listener.local_addr().expect("addr"))).expect("base");
        let server = Self {
            base: base.clone(),
            body: Arc::new(Mutex::new(Value::Null)),
            seen: Arc::new(Mutex::new(Vec::new())),
        };
        let (body, seen) = (server.body.clone(), server.seen.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, base.clone(), body.clone(), seen.clone()));
            }
        });
        server
    }

    fn issuer(&self) -> String {
        format!(
            "{}{}",
            self.base.as_str().trim_end_matches('/'),
            ISSUER_PATH
        )
    }

    fn client_uri(&self) -> String {
        format!("{}register/client-1", self.base)
    }

    /// A registration response that passes every check; each case then breaks one thing.
    fn good_body(&self) -> Value {
        json!({
            "client_id": "client-1",
            "client_secret": "secret-8c1f2d3e4a5b6c7d",
            "client_secret_expires_at": 0,
            "client_id_issued_at": 1_700_000_000,
            "token_endpoint_auth_method": "client_secret_basic",
            "redirect_uris": [REDIRECT],
            "registration_access_token": RAT,
            "registration_client_uri": self.client_uri(),
        })
    }

    fn seen(&self, method: &str) -> Vec<Seen> {
        let seen = self.seen.lock().expect("lock");
        seen.iter()
            .filter(|s| s.method == method)
            .cloned()
            .collect()
    }
}

async fn serve(stream: TcpStream, base: Url, body: Arc<Mutex<Value>>, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line).await.is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let (mut length, mut authorization) = (0usize, None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await.unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or_default();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "authorization" => authorization = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut request_body = vec![0; length];
    let _ = reader.read_exact(&mut request_body).await;
    seen.lock().expect("lock").push(Seen {
        method: method.clone(),
        path: path.clone(),
        authorization,
    });
    let root = base.as_str().trim_end_matches('/');
    let (status, answer) = match (method.as_str(), path.as_str()) {
        ("GET", p) if p == format!("{ISSUER_PATH}/.well-known/openid-configuration") => (
            "200 OK",
            json!({
                "issuer": format!("{root}{ISSUER_PATH}"),
                "authorization_endpoint": format!("{root}/authorize"),
                "token_endpoint": format!("{root}/token"),
                "jwks_uri": format!("{root}/jwks"),
                "registration_endpoint": format!("{root}/register"),
                "code_challenge_methods_supported": ["S256"],
            }),
        ),
        // The registration login's code exchange: the DCR access token.
        ("POST", "/token") => (
            "200 OK",
            json!({"access_token": "dcr-token-1", "token_type": "Bearer", "expires_in": 300}),
        ),
        ("POST", "/register") => ("201 Created", body.lock().expect("lock").clone()),
        ("DELETE", "/register/client-1") => ("204 No Content", Value::Null),
        _ => ("404 Not Found", json!({"error": "not_found"})),
    };
    let text = if answer.is_null() {
        String::new()
    } else {
        answer.to_string()
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    let mut stream = reader.into_inner();
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// The browser step: the user "signs in" at once and the server redirects back with a code.
struct InstantLogin;

#[dcr_core::async_trait]
impl UserAgent for InstantLogin {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        let state = step
            .url
            .query_pairs()
            .find(|(name, _)| name == "state")
            .map(|(_, value)| value.into_owned())
            .expect("state");
        let mut back = step.redirect.url().clone();
        back.query_pairs_mut()
            .append_pair("code", "code-1")
            .append_pair("state", &state);
        Ok(back)
    }
}

fn session(server: &RegistrationServer, store: Arc<MemoryStore>) -> Session {
    let config = Config::from_json(
        &json!({
            "issuer": server.issuer(),
            "registrationClientID": "mobile-dcr-client",
            "redirectUri": REDIRECT,
            "postLogoutRedirectUri": "io.curity.dcrclient:/logoutcallback",
            "scope": "openid profile"
        })
        .to_string(),
    )
    .expect("config");
    Session::new(config, back_channel_client(), Box::new(store))
}

#[tokio::test]
async fn r1_every_refused_201_is_deleted_on_the_server_and_nothing_is_stored() {
    let cases: [(&str, Option<Value>); 9] = [
        ("client_secret", None),
        ("client_secret_expires_at", None),
        (
            "token_endpoint_auth_method",
            Some(json!("client_secret_post")),
        ),
        ("token_endpoint_auth_method", Some(json!("private_key_jwt"))),
        (
            "redirect_uris",
            Some(json!(["io.curity.dcrclient:/elsewhere"])),
        ),
        ("redirect_uris", Some(json!([]))),
        // R4: our redirect URI kept, and a callback on another host added beside it.
        (
            "redirect_uris",
            Some(json!([REDIRECT, "https://evil.example/callback"])),
        ),
        // R4: a full-metadata registration must say which redirect URIs it registered.
        ("redirect_uris", None),
        ("client_secret_expires_at", Some(json!(1_000_000_000))),
    ];
    for (field, value) in cases {
        let case = format!("{field} = {value:?}");
        let server = RegistrationServer::start().await;
        let mut body = server.good_body();
        match &value {
            Some(value) => body[field] = value.clone(),
            None => {
                body.as_object_mut().expect("object").remove(field);
            }
        }
        *server.body.lock().expect("lock") = body;
        let store = Arc::new(MemoryStore::new());
        let session = session(&server, store.clone());

        let error = session.register(&InstantLogin).await.expect_err(&case);
        assert_eq!(error.kind(), "invalidResponse", "{case}");
        assert!(
            error
                .message()
                .ends_with("the client it created was deleted again"),
            "{case}: {}",
            error.message()
        );
        let deletes = server.seen("DELETE");
        assert_eq!(deletes.len(), 1, "{case}: one DELETE");
        assert_eq!(deletes[0].path, "/register/client-1", "{case}");
        assert_eq!(
            deletes[0].authorization.as_deref(),
            Some(format!("Bearer {RAT}").as_str()),
            "{case}: the registration access token from the refused body"
        );
        assert_eq!(
            server.seen("POST").len(),
            2,
            "{case}: one registration, no retry"
        );
        assert!(store.is_empty(), "{case}: nothing stored");
        let view = session.state().await.expect("state");
        assert_eq!(view.state, StateName::Unregistered, "{case}");
    }
}

/// A bad `registration_client_uri` (plain http to a remote host) is refused too, but the
/// registration access token is never sent there (N1, RFC 9700 §2.6): the error says the client
/// could not be deleted, and nothing is stored.
#[tokio::test]
async fn r1_a_bad_management_uri_is_refused_and_never_receives_the_token() {
    let server = RegistrationServer::start().await;
    let mut body = server.good_body();
    // TEST-NET-3 (RFC 5737): never routed, so a request there could not succeed either.
    body["registration_client_uri"] = json!("http://203.0.113.7/register/client-1");
    *server.body.lock().expect("lock") = body;
    let store = Arc::new(MemoryStore::new());
    let session = session(&server, store.clone());
    let error = session.register(&InstantLogin).await.expect_err("refused");
    assert!(
        error
            .message()
            .contains("`registration_client_uri` is not an https URL")
            && error
                .message()
                .ends_with("the client it created could not be deleted on the server"),
        "{}",
        error.message()
    );
    assert!(server.seen("DELETE").is_empty());
    assert!(store.is_empty());
}

/// A working body is stored and nothing is deleted: the cleanup only follows a refusal.
#[tokio::test]
async fn r1_an_acceptable_201_is_kept() {
    let server = RegistrationServer::start().await;
    *server.body.lock().expect("lock") = server.good_body();
    let store = Arc::new(MemoryStore::new());
    let session = session(&server, store.clone());
    let view = session.register(&InstantLogin).await.expect("registered");
    assert_eq!(view.state, StateName::Registered);
    assert_eq!(store.len(), 1);
    assert!(server.seen("DELETE").is_empty());
}
