//! The whole engine lifecycle against the bundled identity server, driven by the scripted agent
//! (no GUI): register (registration login with the password, RFC 7591 registration, store save)
//! → SSO sign-in with the new client → refresh → sign-out (RP-initiated logout).
//!
//! Three variants, interleaved round by round in one run:
//! - baseline: the same protocol by hand (`dcr_tests::flows`, as idp_smoke does it): only the
//!   HTTP round trips, no discovery, key set, ID-token checks, UserInfo, RFC 7592 read,
//!   revocation or store;
//! - the engine with `MemoryStore`;
//! - the engine with `KeychainStore` on the real Secret Service.
//!
//! The engine's back channel and its user agent are wrapped in meters, so each phase splits into
//! back-channel time, browser-step time (both waiting on the identity server) and the rest (the
//! engine's own work and the store). A discovery GET over the engine's back channel is the
//! baseline for one identity-server round trip.

mod support;

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use dcr_core::device::store::{KeychainStore, MemoryStore, RegistrationStore};
use dcr_core::platform::http::{
    back_channel_client, CappedResponse, OutgoingRequest, SendError, Transport,
};
use dcr_core::protocol::discovery::prepare_discovery;
use dcr_core::session::{Event, StateName};
use dcr_core::{BrowserStep, Session, UserAgent, UserAgentError};
use dcr_tests::engine::{engine_config, Form};
use dcr_tests::flows;
use dcr_tests::{Idp, ScriptedAgent, ScriptedBrowser};
use serde_json::json;
use support::{fmt, http, Stats};
use url::Url;

const WARMUP: usize = 2;
const ROUNDS: usize = 20;
const DISCOVERY_SAMPLES: usize = 200;
const PHASES: [&str; 4] = ["register", "sign-in (SSO)", "refresh", "sign-out"];

/// Time spent waiting, and how many calls.
#[derive(Default)]
struct Meter(Mutex<(Duration, usize)>);

impl Meter {
    fn add(&self, spent: Duration) {
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        m.0 += spent;
        m.1 += 1;
    }
    /// Runs `work`, adding the time it took.
    async fn time<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        let start = Instant::now();
        let result = work.await;
        self.add(start.elapsed());
        result
    }
    fn take(&self) -> (Duration, usize) {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The engine's real back channel, metered.
struct MeteredTransport {
    client: reqwest::Client,
    meter: Meter,
}

#[async_trait::async_trait]
impl Transport for MeteredTransport {
    async fn send(&self, request: OutgoingRequest) -> Result<CappedResponse, SendError> {
        self.meter.time(self.client.send(request)).await
    }
}

/// The scripted login window, metered.
struct MeteredAgent {
    inner: ScriptedAgent,
    meter: Meter,
}

#[async_trait::async_trait]
impl UserAgent for MeteredAgent {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        self.meter.time(self.inner.authorize(step)).await
    }
}

/// One phase of one lifecycle.
#[derive(Default, Clone, Copy)]
struct Phase {
    wall: Duration,
    back_channel: Duration,
    requests: usize,
    browser: Duration,
    browser_steps: usize,
}

async fn phase<T>(
    meters: Option<(&MeteredTransport, &MeteredAgent)>,
    work: impl Future<Output = T>,
) -> (T, Phase) {
    let start = Instant::now();
    let out = work.await;
    let mut phase = Phase {
        wall: start.elapsed(),
        ..Phase::default()
    };
    if let Some((transport, agent)) = meters {
        (phase.back_channel, phase.requests) = transport.meter.take();
        (phase.browser, phase.browser_steps) = agent.meter.take();
    }
    (out, phase)
}

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Raw,
    Memory,
    Keychain,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Raw => "raw HTTP (baseline)",
            Variant::Memory => "engine + MemoryStore",
            Variant::Keychain => "engine + KeychainStore",
        }
    }
}

async fn engine_lifecycle(idp: &Idp, store: Box<dyn RegistrationStore>) -> [Phase; 4] {
    let transport = Arc::new(MeteredTransport {
        client: back_channel_client(),
        meter: Meter::default(),
    });
    // A fresh browser: no SSO session yet, so the registration login asks for the password.
    let agent = MeteredAgent {
        inner: ScriptedAgent::login(Arc::new(ScriptedBrowser::new())),
        meter: Meter::default(),
    };
    let session = Session::with_transport(engine_config(idp, Form::Full), transport.clone(), store);
    let meters = Some((transport.as_ref(), &agent));
    let (view, register) = phase(meters, session.register(&agent)).await;
    assert_eq!(view.expect("register").state, StateName::Registered);
    let (view, sign_in) = phase(meters, session.sign_in(&agent)).await;
    assert_eq!(view.expect("sign-in").state, StateName::SignedIn);
    let (view, refresh) = phase(meters, session.refresh()).await;
    assert_eq!(view.expect("refresh").last_event, Some(Event::Refreshed));
    let (view, sign_out) = phase(meters, session.sign_out(&agent)).await;
    assert_eq!(view.expect("sign-out").last_event, Some(Event::SignedOut));
    // Not measured: RFC 7592 delete and the store entry, so the next round registers again.
    session.forget().await.expect("forget");
    [register, sign_in, refresh, sign_out]
}

async fn raw_lifecycle(idp: &Idp) -> [Phase; 4] {
    let browser = ScriptedBrowser::new();
    let (client, register) = phase(None, async {
        let dcr = flows::dcr_token(http(), idp, &browser).await;
        let body = flows::registration_body(json!({}));
        flows::client_of(&flows::register(http(), idp, &dcr, &body).await)
    })
    .await;
    let (signed_in, sign_in) = phase(
        None,
        flows::sign_in(
            http(),
            idp,
            &browser,
            Some(&client),
            "openid profile",
            false,
        ),
    )
    .await;
    let (_, refresh) = phase(
        None,
        flows::refresh(http(), idp, &client, signed_in.get("refresh_token")),
    )
    .await;
    let (_, sign_out) = phase(
        None,
        flows::logout(idp, &browser, signed_in.get("id_token")),
    )
    .await;
    assert!(idp.admin_delete_client(&client.id).await, "cleanup");
    [register, sign_in, refresh, sign_out]
}

async fn lifecycle(idp: &Idp, variant: Variant) -> [Phase; 4] {
    match variant {
        Variant::Raw => raw_lifecycle(idp).await,
        Variant::Memory => engine_lifecycle(idp, Box::new(MemoryStore::new())).await,
        Variant::Keychain => engine_lifecycle(idp, Box::new(KeychainStore::new())).await,
    }
}

fn median(values: impl Iterator<Item = Duration>) -> Duration {
    Stats::of(&values.collect::<Vec<_>>()).median
}

fn share(part: Duration, whole: Duration) -> String {
    format!("{:.0} %", 100.0 * part.as_secs_f64() / whole.as_secs_f64())
}

fn print_results(results: &[(Variant, Vec<[Phase; 4]>)]) {
    println!(
        "\n### Lifecycle per phase: median (p95), {} rounds each, interleaved\n",
        results[0].1.len()
    );
    let names: Vec<_> = results.iter().map(|(v, _)| v.name()).collect();
    println!("| phase | {} |", names.join(" | "));
    println!("|---|{}", "---:|".repeat(names.len()));
    for (i, name) in PHASES.iter().chain(["whole lifecycle"].iter()).enumerate() {
        let cells: Vec<String> = results
            .iter()
            .map(|(_, runs)| {
                let series: Vec<Duration> = runs
                    .iter()
                    .map(|r| {
                        if i < 4 {
                            r[i].wall
                        } else {
                            r.iter().map(|p| p.wall).sum()
                        }
                    })
                    .collect();
                let s = Stats::of(&series);
                format!("{} ({})", fmt(s.median), fmt(s.p95))
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }

    println!("\n### Where the engine's time goes (medians per phase)\n");
    println!("| variant | phase | wall | back channel (requests) | browser steps (steps) | engine + store | identity-server share |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (variant, runs) in results.iter().filter(|(v, _)| *v != Variant::Raw) {
        for (i, name) in PHASES.iter().enumerate() {
            let wall = median(runs.iter().map(|r| r[i].wall));
            let back = median(runs.iter().map(|r| r[i].back_channel));
            let browser = median(runs.iter().map(|r| r[i].browser));
            let rest = median(
                runs.iter()
                    .map(|r| r[i].wall.saturating_sub(r[i].back_channel + r[i].browser)),
            );
            let (requests, steps) = (runs[0][i].requests, runs[0][i].browser_steps);
            println!(
                "| {} | {name} | {} | {} ({requests}) | {} ({steps}) | {} | {} |",
                variant.name(),
                fmt(wall),
                fmt(back),
                fmt(browser),
                fmt(rest),
                share(back + browser, wall)
            );
        }
    }
}

fn main() {
    let title = "Engine lifecycle against the bundled identity server";
    support::with_keyring_and_idp("lifecycle", title, |idp| async move {
        let variants = [Variant::Raw, Variant::Memory, Variant::Keychain];
        for _ in 0..WARMUP {
            for variant in variants {
                lifecycle(&idp, variant).await;
            }
        }
        let mut results: Vec<(Variant, Vec<[Phase; 4]>)> =
            variants.iter().map(|v| (*v, Vec::new())).collect();
        for round in 0..support::iterations(ROUNDS) {
            // Rotate the order so no variant always runs right after another.
            for k in 0..variants.len() {
                let index = (round + k) % variants.len();
                let phases = lifecycle(&idp, variants[index]).await;
                results[index].1.push(phases);
            }
        }
        print_results(&results);

        // One identity-server round trip: the engine's discovery request on its back channel.
        let client = back_channel_client();
        let issuer = engine_config(&idp, Form::Full).issuer;
        let mut samples = Vec::new();
        for i in 0..support::iterations(DISCOVERY_SAMPLES) + 10 {
            let start = Instant::now();
            let response = client
                .send(prepare_discovery(&issuer))
                .await
                .expect("discovery");
            assert_eq!(response.status, 200);
            if i >= 10 {
                samples.push(start.elapsed());
            }
        }
        let mut table = support::Table::new();
        table.add(
            "GET /.well-known/openid-configuration (engine back channel)",
            &samples,
        );
        table.print("Baseline: one identity-server round trip");
        drop(idp);
    });
}
