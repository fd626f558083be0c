//! Captures the fuzz seeds: every back-channel response and callback URL of real
//! lifecycles against the bundled identity server, written under `fuzz/corpus/<target>/` in the
//! input layout of `dcr_core::fuzzing` (a few header lines, then the body). Ignored in `make test`
//! because it writes into the source tree; `scripts/fuzz-seeds.sh` runs it.

use std::path::{Path, PathBuf};

use dcr_tests::engine::{self, client_id, Exchange, Form, Rig, POST_LOGOUT_URI, REDIRECT_URI};
use dcr_tests::{jwt_claims, repo_root};
use serde_json::Value;

fn corpus() -> PathBuf {
    std::env::var_os("DCR_FUZZ_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("fuzz/corpus"))
}

fn write(target: &str, name: &str, content: &str) {
    let dir = corpus().join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), content).unwrap();
}

fn body(exchange: &Exchange) -> &str {
    exchange
        .response_body
        .as_deref()
        .expect("the exchange got a response")
}

fn status(exchange: &Exchange) -> u16 {
    exchange.status.expect("the exchange got a response")
}

/// One line of JSON, as the read target's header wants the stored registration.
fn one_line(json: &str) -> String {
    serde_json::from_str::<Value>(json).unwrap().to_string()
}

/// First run, refresh, sign-out, a second sign-in (with the RFC 7592 read), then the client is
/// deleted on the server so refresh and read answer with their real errors.
async fn capture(form: Form, prefix: &str) {
    let r = Rig::start(form).await;
    let agent = r.agent();
    let view = r.session.register_and_sign_in(&agent).await.unwrap();
    let client = client_id(&view);
    r.session.refresh().await.unwrap();
    r.session.sign_out(&agent).await.unwrap();
    r.session.sign_in(&agent).await.unwrap();
    assert!(r.idp.admin_delete_client(&client).await);
    // Both fail (the client is gone); their responses are what this is for.
    let _ = r.session.refresh().await;
    let _ = r.session.sign_in(&agent).await;

    let issuer = r.idp.issuer.as_str();
    let exchanges = r.transport.exchanges();
    let discovery = exchanges
        .iter()
        .find(|e| e.path.ends_with("/.well-known/openid-configuration"))
        .expect("the engine fetched the discovery document");
    let metadata: Value = serde_json::from_str(body(discovery)).unwrap();
    write(
        "discovery",
        &format!("{prefix}-discovery"),
        &format!("{}\n{issuer}\n{}", status(discovery), body(discovery)),
    );

    let jwks_path = url::Url::parse(metadata["jwks_uri"].as_str().unwrap())
        .unwrap()
        .path()
        .to_owned();
    let jwks = exchanges
        .iter()
        .find(|e| e.path == jwks_path)
        .expect("the engine fetched the key set");

    for (i, exchange) in r.transport.to("/token").iter().enumerate() {
        write(
            "token",
            &format!("{prefix}-token-{i}"),
            &format!("{}\n{}", status(exchange), body(exchange)),
        );
        let Some(id_token) = exchange
            .response_json()
            .and_then(|json| json["id_token"].as_str().map(str::to_owned))
        else {
            continue;
        };
        let claims = jwt_claims(&id_token);
        // `now` one second after issue; the nonce the token carries (a refresh's has none).
        let now = claims["iat"].as_i64().unwrap() + 1;
        let nonce = claims["nonce"].as_str().unwrap_or_default();
        let aud = claims["aud"].as_str().unwrap();
        write(
            "id_token",
            &format!("{prefix}-id-token-{i}"),
            &format!(
                "{now}\n{issuer}\n{aud}\n{nonce}\n{id_token}\n{}",
                body(jwks)
            ),
        );
    }

    let registration = r
        .transport
        .with_method("POST")
        .into_iter()
        .find(|e| e.path.ends_with("/reg"))
        .expect("the engine registered");
    write(
        "registration",
        &format!("{prefix}-registration"),
        &format!("{}\n{}", status(&registration), body(&registration)),
    );
    let stored = one_line(body(&registration));
    let reads: Vec<_> = r
        .transport
        .with_method("GET")
        .into_iter()
        .filter(|e| e.path.contains("/reg/"))
        .collect();
    assert!(
        !reads.is_empty(),
        "the second sign-in read the registration"
    );
    for (i, read) in reads.iter().enumerate() {
        write(
            "registration_read",
            &format!("{prefix}-read-{i}"),
            &format!("{}\n{stored}\n{}", status(read), body(read)),
        );
    }

    let iss_required = metadata["authorization_response_iss_parameter_supported"] == true;
    for (i, url) in agent.returned().iter().enumerate() {
        let state = engine::query(url, "state").unwrap_or_default();
        // The sign-out's return goes through the same checks, against its own redirect URI.
        let redirect = if url.path().ends_with("logoutcallback") {
            POST_LOGOUT_URI
        } else {
            REDIRECT_URI
        };
        write(
            "callback",
            &format!("{prefix}-callback-{i}"),
            &format!(
                "{state}\n{issuer}\n{}\n{redirect}\n{url}",
                u8::from(iss_required)
            ),
        );
    }

    write(
        "config",
        &format!("{prefix}-config.json"),
        &engine::config_json(&r.idp, form).to_string(),
    );
}

fn copy_config(file: &Path) {
    let name = file.file_name().unwrap().to_str().unwrap();
    write("config", name, &std::fs::read_to_string(file).unwrap());
}

#[tokio::test]
#[ignore = "writes fuzz seeds into the source tree; run by scripts/fuzz-seeds.sh"]
async fn capture_fuzz_seeds() {
    capture(Form::Full, "full").await;
    capture(Form::Templatized, "templatized").await;
    copy_config(&repo_root().join("config.json"));
    copy_config(&repo_root().join("config.device-bound.json"));
}
