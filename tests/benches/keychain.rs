//! The registration store: `KeychainStore` on the real Secret Service (gnome-keyring over D-Bus,
//! started by scripts/bench.sh) against `MemoryStore` as the baseline. Both encode and decode
//! exactly the same entry (a real RFC 7591 registration response from the bundled identity
//! server), so the difference is the keychain itself: D-Bus round trips, the Secret Service's
//! session encryption, and gnome-keyring writing its collection.
//!
//! Rows: save, load, delete and their sum (a round trip) on a connected store, and the first
//! call of a fresh store (connecting, as at app start), each interleaved with the baseline.

mod support;

use std::time::{Duration, Instant};

use dcr_core::config::TokenEndpointAuthMethod;
use dcr_core::device::store::{
    KeychainStore, MemoryStore, RegistrationStore, StoreKey, StoredRegistration,
};
use dcr_core::platform::http::CappedResponse;
use dcr_core::protocol::registration::{registration_response, RegistrationBody};
use dcr_tests::engine::{POST_LOGOUT_URI, REDIRECT_URI, REGISTRATION_CLIENT};
use dcr_tests::flows;
use dcr_tests::{Idp, ScriptedBrowser};
use serde_json::json;
use support::{http, Table};

const WARMUP: usize = 10;
const ROUNDS: usize = 200;
const CONNECT_ROUNDS: usize = 30;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// save, load, delete, each timed.
fn round_trip(
    store: &dyn RegistrationStore,
    key: &StoreKey,
    value: &StoredRegistration,
) -> [Duration; 3] {
    let start = Instant::now();
    store.save(key, value).expect("save");
    let saved = start.elapsed();
    let start = Instant::now();
    let loaded = store.load(key).expect("load");
    let load = start.elapsed();
    assert!(loaded.is_some(), "the entry just saved loads");
    let start = Instant::now();
    store.delete(key).expect("delete");
    [saved, load, start.elapsed()]
}

/// A fresh store's first call: connecting to the Secret Service, then a load that finds nothing.
fn first_call(store: &dyn RegistrationStore, key: &StoreKey) -> Duration {
    let start = Instant::now();
    assert!(store.load(key).expect("load").is_none());
    start.elapsed()
}

#[derive(Default)]
struct Series {
    save: Vec<Duration>,
    load: Vec<Duration>,
    delete: Vec<Duration>,
    total: Vec<Duration>,
}

impl Series {
    fn push(&mut self, [save, load, delete]: [Duration; 3]) {
        self.save.push(save);
        self.load.push(load);
        self.delete.push(delete);
        self.total.push(save + load + delete);
    }
}

async fn real_registration(idp: &Idp) -> StoredRegistration {
    let browser = ScriptedBrowser::new();
    let dcr = flows::dcr_token(http(), idp, &browser).await;
    let body = flows::registration_body(json!({}));
    let response = flows::register(http(), idp, &dcr, &body).await;
    let body = response.to_string().into_bytes();
    println!(
        "Entry: a real registration response of {} bytes.",
        body.len()
    );
    let registration = registration_response(
        CappedResponse {
            status: 201,
            content_type: Some("application/json".into()),
            body,
            ..Default::default()
        },
        &RegistrationBody::full(
            REDIRECT_URI,
            POST_LOGOUT_URI,
            "openid profile",
            TokenEndpointAuthMethod::ClientSecretBasic,
        ),
        REDIRECT_URI,
        now(),
    )
    .expect("the engine accepts the registration");
    StoredRegistration {
        registration,
        registered_at: now(),
        device_key: None,
        refresh_token: None,
    }
}

fn main() {
    if !support::bench_mode("keychain") {
        return;
    }
    support::require_keyring("the keychain bench");
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (idp, value) = runtime.block_on(async {
        let idp = Idp::start().await;
        let value = real_registration(&idp).await;
        (idp, value)
    });
    support::print_header("Keychain: KeychainStore (Secret Service) vs MemoryStore");
    // This run's own entry: the issuer carries the server's ephemeral port.
    let key = StoreKey::new(idp.issuer.as_str(), REGISTRATION_CLIENT, REDIRECT_URI, None);
    let keychain = KeychainStore::new();
    let memory = MemoryStore::new();
    keychain.delete(&key).expect("the Secret Service answers");

    for _ in 0..WARMUP {
        round_trip(&keychain, &key, &value);
        round_trip(&memory, &key, &value);
    }
    let (mut kc, mut mem) = (Series::default(), Series::default());
    for round in 0..support::iterations(ROUNDS) {
        if round % 2 == 0 {
            kc.push(round_trip(&keychain, &key, &value));
            mem.push(round_trip(&memory, &key, &value));
        } else {
            mem.push(round_trip(&memory, &key, &value));
            kc.push(round_trip(&keychain, &key, &value));
        }
    }
    let (mut kc_first, mut mem_first) = (Vec::new(), Vec::new());
    for _ in 0..support::iterations(CONNECT_ROUNDS) {
        kc_first.push(first_call(&KeychainStore::new(), &key));
        mem_first.push(first_call(&MemoryStore::new(), &key));
    }

    let mut table = Table::new();
    let mut totals = Vec::new();
    for (name, k, m) in [
        ("save", &kc.save, &mem.save),
        ("load", &kc.load, &mem.load),
        ("delete", &kc.delete, &mem.delete),
        ("round trip (save + load + delete)", &kc.total, &mem.total),
    ] {
        let a = table.add(format!("KeychainStore {name}"), k);
        let b = table.add(format!("MemoryStore {name} (baseline)"), m);
        totals.push((name, a.median, b.median));
    }
    let a = table.add("KeychainStore::new() + first load (connect)", &kc_first);
    let b = table.add("MemoryStore::new() + first load (baseline)", &mem_first);
    totals.push(("new store + first load", a.median, b.median));
    table.print("Registration store, per operation (interleaved with the baseline)");
    println!();
    for (name, k, m) in totals {
        println!(
            "{name}: keychain {} vs memory {} = {}",
            support::fmt(k),
            support::fmt(m),
            support::ratio(k, m)
        );
    }
    keychain.delete(&key).expect("cleanup");
    runtime.block_on(async move { drop(idp) });
}
