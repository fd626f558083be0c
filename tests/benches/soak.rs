//! Soak: 1,000 consecutive full lifecycles through one engine session, wired as the
//! desktop shell wires it (`Session::new`: the real back channel, the real keychain, the
//! cross-process lock), against the bundled identity server: first run (registration login,
//! RFC 7591, keychain save, SSO sign-in) → refresh → sign-out → forget (RFC 7592 delete, keychain
//! delete). One session for all of them, as an app that stays open, so anything it keeps per
//! lifecycle would show. The scripted browser is new each time (it is the user's browser, not
//! ours). Every 25 runs this process's live heap (counted exactly by its global allocator,
//! `measure::heap`) and its RSS; failures are counted and the soak carries on. A leak is judged
//! by the least-squares slope of the live heap over the lifecycle number after a warm-up of the
//! first tenth of the runs (`measure::soak`); RSS is printed beside it, not judged, because the
//! allocator's retained pages make it creep when nothing is held.
//!
//! A benchmark, not a test: scripts/bench.sh runs it (it needs the throwaway keyring).
//! `DCR_SOAK_RUNS=N` changes the number of lifecycles.

mod measure;
mod support;

use std::sync::Arc;

use dcr_core::device::store::KeychainStore;
use dcr_core::session::{Event, StateName};
use dcr_core::Session;
use dcr_tests::engine::{engine_config, Form};
use dcr_tests::{procs, Idp, ScriptedAgent, ScriptedBrowser};
use measure::soak::Soak;

/// Counts the live heap: the soak's leak figure (why: `measure::heap`).
#[global_allocator]
static HEAP: measure::heap::Counting = measure::heap::Counting::new();

const RUNS: usize = 1000;
/// RSS is sampled after every this many lifecycles: 41 samples over 1,000, enough points for the
/// fit; reading /proc/self/status costs nothing next to a lifecycle.
const EVERY: usize = 25;

async fn lifecycle(session: &Session) -> Result<(), String> {
    let agent = ScriptedAgent::login(Arc::new(ScriptedBrowser::new()));
    let step = |name: &'static str| move |e: dcr_core::Error| format!("{name}: {}", e.kind());
    let view = session
        .register_and_sign_in(&agent)
        .await
        .map_err(step("first run"))?;
    if view.state != StateName::SignedIn {
        return Err(format!("first run ended in {:?}", view.state));
    }
    let view = session.refresh().await.map_err(step("refresh"))?;
    if view.last_event != Some(Event::Refreshed) {
        return Err(format!("refresh: {:?}", view.last_event));
    }
    let view = session.sign_out(&agent).await.map_err(step("sign-out"))?;
    if view.last_event != Some(Event::SignedOut) {
        return Err(format!("sign-out: {:?}", view.last_event));
    }
    let view = session.forget().await.map_err(step("forget"))?;
    if view.last_event != Some(Event::Forgotten) || view.state != StateName::Unregistered {
        return Err(format!("forget: {:?} {:?}", view.state, view.last_event));
    }
    Ok(())
}

fn main() {
    if !support::bench_mode("soak") {
        return;
    }
    support::require_keyring("the engine soak");
    let runs = measure::soak::runs(RUNS);
    // In the run of 2026-11-27 RSS rose from 5.8 to 8.7 MiB within the first 50 lifecycles
    // (threads, allocator arenas, the connection pool, the D-Bus connection) and was flat in
    // comparison after: the first tenth is warm-up, not fitted.
    let warmup = runs / 10;
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        support::print_header("Soak: engine lifecycles against the bundled identity server");
        measure::print_load("before");
        let idp = Idp::start().await;
        let session = Session::new(
            engine_config(&idp, Form::Full),
            dcr_core::platform::http::back_channel_client(),
            Box::new(KeychainStore::new()),
        );
        let mut soak = Soak::new(EVERY, warmup);
        soak.sample(0, vec![HEAP.live_kib(), procs::rss_kib(None)]);
        let started = std::time::Instant::now();
        for run in 1..=runs {
            if let Err(what) = lifecycle(&session).await {
                soak.fail(run, what);
                // Start the next run from scratch, whatever state this one left.
                let _ = session.forget().await;
            }
            if soak.due(run) {
                soak.sample(run, vec![HEAP.live_kib(), procs::rss_kib(None)]);
            }
        }
        println!(
            "\n{runs} lifecycles in {:.1} s ({:.1} ms each, wall, on the loaded machine).",
            started.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64() * 1000.0 / runs as f64
        );
        soak.report(
            &format!("Soak: {runs} engine lifecycles, RSS of the process"),
            "soak-engine-rss",
            runs,
            &["live heap", "engine process RSS"],
        );
        let clients = idp.admin_list_clients().await.len();
        println!("Clients left on the identity server: {clients} (each forget deletes its own).");
        measure::print_load("after");
    });
}
