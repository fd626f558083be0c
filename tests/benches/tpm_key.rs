//! The device key in a TPM against the device key in software, in one run: one ES256 signature
//! (the signer alone: SHA-256 and ECDSA P-256), and one refresh through the engine's `Session`
//! against the bundled identity server's `device-bound` profile (a `private_key_jwt` assertion
//! and a DPoP proof per token request, server nonces on).
//!
//! The TPM is a software TPM (`swtpm`, started here on loopback TCP, `dcr_tests::swtpm`): its
//! ECDSA runs on this CPU, and its commands cross a local socket instead of the LPC/SPI bus of a
//! TPM chip, which is far slower per command. A real TPM therefore costs more per signature than
//! this run shows; this run measures what the engine adds around the TPM and how many TPM
//! commands a signature takes, not a chip.
//!
//! Rows, each pair measured alternately (A B B A …) in the same run:
//! - a signature with the TPM key as the engine keeps it (its saved context loaded, signed,
//!   flushed) against the software key;
//! - the same TPM key loaded from its blobs every time (storage parent re-derived,
//!   TPM2_Load: what every signature cost before the key's context was kept) against the kept
//!   one;
//! - a refresh with a TPM-held key against a refresh with a software key, two sessions on one
//!   server.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use dcr_core::config::Config;
use dcr_core::device::signer::DeviceSigner;
use dcr_core::device::software::SoftwareKey;
use dcr_core::device::store::MemoryStore;
use dcr_core::device::tpm::{self, TpmKey};
use dcr_core::platform::http::back_channel_client;
use dcr_core::session::Event;
use dcr_core::Session;
use dcr_tests::engine::{config_json, Form};
use dcr_tests::swtpm::Swtpm;
use dcr_tests::{Idp, IdpOptions, ScriptedAgent, ScriptedBrowser};
use serde_json::json;
use support::{paired, ratio, Table};

const SIGN_WARMUP: usize = 10;
const SIGN_SAMPLES: usize = 300;
/// Loading from the blobs is slower; fewer rounds keep the run short.
const COLD_SAMPLES: usize = 100;
const REFRESH_WARMUP: usize = 3;
const REFRESH_ROUNDS: usize = 60;

/// A JWS signing input of the size the engine signs (a DPoP proof's header and claims).
const SIGNING_INPUT: &[u8] = &[b'a'; 420];

fn main() {
    if !support::bench_mode("tpm_key") {
        return;
    }
    support::print_header("The device key in a TPM (swtpm) against the software key");
    let tpm = Swtpm::start();
    let tcti = tpm.tcti();
    signatures(&tcti);
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(refreshes(&tcti));
}

fn signatures(tcti: &str) {
    let tpm_key = TpmKey::generate_on(tcti).expect("the software TPM makes a key");
    let software = SoftwareKey::generate().expect("a software key");
    let sign = |signer: &dyn DeviceSigner| {
        std::hint::black_box(signer.sign(SIGNING_INPUT).expect("signs"));
    };
    let mut table = Table::new();
    let (kept, soft) = paired(
        SIGN_WARMUP,
        support::iterations(SIGN_SAMPLES),
        1,
        || sign(&tpm_key),
        || sign(&software),
    );
    let a = table.add("ES256 signature, TPM key (kept context)", &kept);
    let b = table.add("ES256 signature, software key (ring)", &soft);
    println!(
        "one signature: the TPM key costs {} the software key (medians)",
        ratio(a.median, b.median)
    );
    let (public, private) = tpm_key.blobs();
    let (cold, kept_again) = paired(
        2,
        support::iterations(COLD_SAMPLES),
        1,
        || {
            // A new key object each time: nothing kept, so parent and key are loaded again.
            let fresh = TpmKey::from_blobs_on(tcti, public, private).expect("the blobs parse");
            sign(&fresh);
        },
        || sign(&tpm_key),
    );
    let c = table.add("ES256 signature, TPM key loaded from its blobs", &cold);
    let d = table.add(
        "ES256 signature, TPM key (kept context), again",
        &kept_again,
    );
    println!(
        "loading from the blobs every time costs {} the kept context (medians)",
        ratio(c.median, d.median)
    );
    table.print("One ES256 signature (per call, alternating)");
}

/// A signed-in session on `idp` whose device key is held as `storage` says.
async fn signed_in(idp: &Idp, storage: &str) -> Session {
    let mut config = config_json(idp, Form::Full);
    config.as_object_mut().unwrap().extend(
        json!({
            "tokenEndpointAuthMethod": "private_key_jwt",
            "dpop": true,
            "deviceKeyStorage": storage,
        })
        .as_object()
        .unwrap()
        .clone(),
    );
    let config = Config::from_json(&config.to_string()).expect("the bench config is valid");
    let session = Session::with_transport(
        config,
        Arc::new(back_channel_client()),
        Box::new(MemoryStore::new()),
    );
    let agent = ScriptedAgent::login(Arc::new(ScriptedBrowser::new()));
    session
        .register_and_sign_in(&agent)
        .await
        .expect("register and sign in");
    session
}

async fn refresh(session: &Session) -> Duration {
    let start = Instant::now();
    let view = session.refresh().await.expect("refreshes");
    let spent = start.elapsed();
    assert_eq!(view.last_event, Some(Event::Refreshed));
    spent
}

async fn refreshes(tcti: &str) {
    tpm::set_process_tcti(Some(tcti));
    let idp = Idp::start_with(IdpOptions::device_bound(true)).await;
    let with_tpm = signed_in(&idp, "tpm").await;
    let with_software = signed_in(&idp, "software").await;
    for _ in 0..REFRESH_WARMUP {
        refresh(&with_tpm).await;
        refresh(&with_software).await;
    }
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for round in 0..support::iterations(REFRESH_ROUNDS) {
        if round % 2 == 0 {
            a.push(refresh(&with_tpm).await);
            b.push(refresh(&with_software).await);
        } else {
            b.push(refresh(&with_software).await);
            a.push(refresh(&with_tpm).await);
        }
    }
    let mut table = Table::new();
    let tpm_stats = table.add("refresh, device key in the TPM", &a);
    let soft_stats = table.add("refresh, device key in software", &b);
    println!(
        "one refresh: the TPM key costs {} the software key (medians; +{:.2} ms)",
        ratio(tpm_stats.median, soft_stats.median),
        (tpm_stats.median.as_secs_f64() - soft_stats.median.as_secs_f64()) * 1e3
    );
    table.print("One refresh through the engine (private_key_jwt + DPoP with nonces, alternating)");
    tpm::set_process_tcti(None);
    drop(idp);
}
