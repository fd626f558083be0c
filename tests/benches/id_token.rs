//! ID-token validation, the engine's real path (`dcr_core::protocol::id_token::verify_id_token`: JWS
//! signature against the server's key set, then the OIDC Core §3.1.3.7 claim checks), on real
//! ID tokens from the bundled identity server, signed RS256 (its default key) and ES256 (a client
//! registered with `id_token_signed_response_alg: ES256`, RFC 7591 §2 / OIDC Registration §2).
//!
//! Baseline, same run, same token: only base64url-decode header and payload and parse both as
//! JSON, i.e. what reading a JWT costs without checking anything. The key set parse
//! (`jwks_response`, once per session) is measured against a plain JSON parse of the same body.

mod support;

use std::hint::black_box;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use dcr_core::platform::http::{back_channel_client, CappedResponse, Transport};
use dcr_core::protocol::id_token::{
    jwks_response, prepare_jwks, verify_id_token, IdTokenExpectations, Jwks,
};
use dcr_core::Secret;
use dcr_tests::flows::{self, Client};
use dcr_tests::{jwt_claims, Idp, ScriptedBrowser};
use serde_json::{json, Value};
use support::{http, paired, Table};

/// Calls per timed sample; a sample is the mean of these.
const BATCH: usize = 20;
const WARMUP_ROUNDS: usize = 25;
const SAMPLES: usize = 500;

/// One real ID token and what the engine expects of it.
struct Minted {
    raw: String,
    client_id: String,
    nonce: String,
    iat: i64,
}

async fn mint(idp: &Idp, browser: &ScriptedBrowser, dcr: &str, extra: Value) -> Minted {
    let registration = flows::register(http(), idp, dcr, &flows::registration_body(extra)).await;
    let client: Client = flows::client_of(&registration);
    let signed_in =
        flows::sign_in(http(), idp, browser, Some(&client), "openid profile", false).await;
    let raw = signed_in.get("id_token").to_owned();
    let iat = jwt_claims(&raw)["iat"].as_i64().expect("iat");
    Minted {
        raw,
        client_id: client.id,
        nonce: signed_in.nonce,
        iat,
    }
}

fn header_alg(raw: &str) -> String {
    let header = raw.split('.').next().expect("a JWS header");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    header["alg"].as_str().unwrap_or("?").to_owned()
}

/// The baseline: decode and parse, check nothing.
fn decode_only(raw: &str) -> (Value, Value) {
    let mut parts = raw.split('.');
    let mut part = || {
        let bytes = URL_SAFE_NO_PAD
            .decode(parts.next().expect("part"))
            .expect("base64url");
        serde_json::from_slice::<Value>(&bytes).expect("JSON")
    };
    let header = part();
    (header, part())
}

fn bench_token(table: &mut Table, issuer: &str, jwks: &Jwks, token: &Minted, label: &str) {
    let secret = Secret::new(token.raw.clone());
    let expect = IdTokenExpectations {
        issuer,
        client_id: &token.client_id,
        nonce: Some(&token.nonce),
        previous_sub: None,
        // The token's own issue time, so the `iat`/`exp` window holds however long the run takes.
        now: token.iat,
    };
    verify_id_token(&secret, jwks, &expect).expect("the real token verifies");
    let (verify, decode) = paired(
        WARMUP_ROUNDS,
        support::iterations(SAMPLES),
        BATCH,
        || {
            black_box(verify_id_token(black_box(&secret), jwks, &expect).expect("verifies"));
        },
        || {
            black_box(decode_only(black_box(&token.raw)));
        },
    );
    let a = table.add(
        format!("{label}: verify_id_token (signature + claims)"),
        &verify,
    );
    let b = table.add(
        format!("{label}: baseline, decode + JSON parse only"),
        &decode,
    );
    println!(
        "{label}: validation costs {} the baseline (medians {} vs {}), token {} bytes",
        support::ratio(a.median, b.median),
        support::fmt(a.median),
        support::fmt(b.median),
        token.raw.len()
    );
}

fn main() {
    if !support::bench_mode("id_token") {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        support::print_header("ID-token validation");
        let idp = Idp::start().await;
        let browser = ScriptedBrowser::new();
        let dcr = flows::dcr_token(http(), &idp, &browser).await;
        let rs = mint(&idp, &browser, &dcr, json!({})).await;
        let es = mint(
            &idp,
            &browser,
            &dcr,
            json!({"id_token_signed_response_alg": "ES256"}),
        )
        .await;
        // The key set as the engine fetches it (RFC 7517), over its own back channel.
        let jwks_body: CappedResponse = back_channel_client()
            .send(prepare_jwks(&idp.endpoint("jwks")))
            .await
            .expect("the key set");
        // CappedResponse is not Clone; both sides below pay for the same copy.
        let copy = || CappedResponse {
            status: jwks_body.status,
            content_type: jwks_body.content_type.clone(),
            body: jwks_body.body.clone(),
            ..Default::default()
        };
        let jwks = jwks_response(copy()).expect("the key set parses");
        let issuer = idp.issuer.as_str().to_owned();

        let mut table = Table::new();
        for token in [&rs, &es] {
            let alg = header_alg(&token.raw);
            bench_token(&mut table, &issuer, &jwks, token, &alg);
        }
        let (parse, plain) = paired(
            WARMUP_ROUNDS,
            support::iterations(SAMPLES),
            BATCH,
            || {
                black_box(jwks_response(black_box(copy())).expect("parses"));
            },
            || {
                let body = black_box(copy());
                black_box(serde_json::from_slice::<Value>(&body.body).expect("JSON"));
            },
        );
        table.add("key set: jwks_response (RSA + EC key)", &parse);
        table.add("key set: baseline, JSON parse only", &plain);
        table.print(&format!(
            "ID-token validation, per call (batches of {BATCH}, interleaved with the baseline)"
        ));
        drop(idp);
    });
}
