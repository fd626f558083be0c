//! The engine against panva's openid-client (node, pinned in benches/openid-client), both
//! driving the same first run against the same bundled identity server, alternating flow by flow
//! in one run (A B B A …): discovery, authorization URL with PKCE, callback checks, code
//! exchange (DCR token), RFC 7591 registration, the SSO sign-in's code exchange with
//! client_secret_basic, ID-token validation (signature against the key set, claims), UserInfo,
//! and one refresh.
//!
//! Measured: client process CPU per flow (`getrusage`, user + system, all threads, on both sides;
//! see `measure::process_cpu` and flow.mjs), minus the CPU spent in the two logins. Both sides do
//! the logins with a plain HTTP client in their own process (the scripted browser here, `fetch`
//! there) and measure and subtract that CPU the same way. Each flow's RFC 7592 delete afterwards
//! is not measured. Back-channel requests per flow are counted from the identity server's side
//! (`IDP_REQUEST_LOG`).
//!
//! TLS as deployed: the judged comparison runs against the identity server behind https, with a
//! certificate from a CA made at start ([`dcr_tests::tls::TestCa`]). Both clients verify it: the
//! engine's back channel trusts the CA through `SSL_CERT_FILE` (the way a deployment adds a
//! private CA, tests/cli/tls.rs), Node.js through `NODE_EXTRA_CA_CERTS`; neither has a switch
//! that skips verification. The same comparison over plain HTTP follows, labelled, to show what
//! TLS adds on each side.
//!
//! Goal: the engine's median CPU per flow at most a tenth of openid-client's, with TLS. The row
//! goes into the run's summary table (`support::summary`, goal e).

mod measure;
mod support;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use dcr_core::device::store::MemoryStore;
use dcr_core::session::{Event, StateName};
use dcr_core::{BrowserStep, Session, UserAgent, UserAgentError};
use dcr_tests::engine::{config_json, engine_config, Form};
use dcr_tests::tls::TestCa;
use dcr_tests::{Idp, IdpOptions, ScriptedAgent, ScriptedBrowser};
use measure::svg::{bar_chart, Bar};
use measure::{median, percentile, process_cpu};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use url::Url;

const WARMUP: usize = 10;
const ROUNDS: usize = 60;
const GOAL: f64 = 0.1;

/// The scripted login window, with the process CPU it spends (to subtract: it is the user's
/// browser, not the OAuth client). The engine awaits it, so nothing else of the engine runs
/// meanwhile.
struct CpuMeteredAgent {
    inner: ScriptedAgent,
    spent: Mutex<Duration>,
}

#[async_trait::async_trait]
impl UserAgent for CpuMeteredAgent {
    async fn authorize(&self, step: BrowserStep) -> Result<Url, UserAgentError> {
        let start = process_cpu();
        let result = self.inner.authorize(step).await;
        *self.spent.lock().unwrap_or_else(PoisonError::into_inner) += process_cpu() - start;
        result
    }
}

/// One flow: CPU (login subtracted), the login's CPU, wall time, back-channel requests.
#[derive(Clone, Copy)]
struct Sample {
    cpu_us: f64,
    login_cpu_us: f64,
    wall_us: f64,
    requests: usize,
}

/// Back-channel requests since the last clear, without the unmeasured RFC 7592 delete.
async fn requests(idp: &Idp) -> usize {
    let log = idp.admin_requests().await;
    idp.admin_clear_requests().await;
    log.iter()
        .filter(|r| r.back_channel && r.method != "DELETE")
        .count()
}

async fn engine_flow(idp: &Idp, http: &reqwest::Client) -> Sample {
    let config = engine_config(idp, Form::Full);
    // A fresh browser: no SSO session, so the registration login asks for the password.
    let agent = CpuMeteredAgent {
        inner: ScriptedAgent::login(Arc::new(ScriptedBrowser::new())),
        spent: Mutex::new(Duration::ZERO),
    };
    let (cpu, wall) = (process_cpu(), Instant::now());
    let session =
        Session::with_transport(config, Arc::new(http.clone()), Box::new(MemoryStore::new()));
    let view = session
        .register_and_sign_in(&agent)
        .await
        .expect("first run");
    assert_eq!(view.state, StateName::SignedIn);
    let view = session.refresh().await.expect("refresh");
    assert_eq!(view.last_event, Some(Event::Refreshed));
    let (cpu, wall) = (process_cpu() - cpu, wall.elapsed());
    let login = *agent.spent.lock().unwrap_or_else(PoisonError::into_inner);
    // Not measured: RFC 7592 delete, so the server's client list stays short.
    session.forget().await.expect("forget");
    Sample {
        cpu_us: (cpu - login).as_secs_f64() * 1e6,
        login_cpu_us: login.as_secs_f64() * 1e6,
        wall_us: wall.as_secs_f64() * 1e6,
        requests: requests(idp).await,
    }
}

/// The node worker (benches/openid-client/flow.mjs): one flow per `flow` line.
struct Peer {
    child: tokio::process::Child,
    stdin: tokio::process::ChildStdin,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
}

impl Peer {
    /// `ca`: the PEM file of the CA a TLS server's certificate comes from.
    fn start(idp: &Idp, ca: Option<&Path>) -> Peer {
        let dir = dcr_tests::repo_root().join("benches/openid-client");
        assert!(
            dir.join("node_modules/openid-client").is_dir(),
            "openid-client is not installed: run `npm ci --prefix benches/openid-client` \
             (scripts/bench.sh does)"
        );
        let mut command = tokio::process::Command::new("node");
        // Node.js adds these roots to its built-in ones for every TLS connection, fetch included.
        match ca {
            Some(ca) => command.env("NODE_EXTRA_CA_CERTS", ca),
            None => command.env_remove("NODE_EXTRA_CA_CERTS"),
        };
        let mut child = command
            .arg(dir.join("flow.mjs"))
            .env("DCR_BENCH_CONFIG", config_json(idp, Form::Full).to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot run node");
        let stdin = child.stdin.take().expect("piped");
        let stdout = BufReader::new(child.stdout.take().expect("piped")).lines();
        Peer {
            child,
            stdin,
            stdout,
        }
    }

    async fn flow(&mut self, idp: &Idp) -> Sample {
        self.stdin.write_all(b"flow\n").await.expect("to node");
        let line = self
            .stdout
            .next_line()
            .await
            .expect("from node")
            .expect("node exited");
        let answer: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
        assert!(
            answer.get("error").is_none(),
            "openid-client's flow failed: {answer}"
        );
        let number = |key: &str| answer[key].as_f64().expect(key);
        Sample {
            cpu_us: number("cpu_us"),
            login_cpu_us: number("login_cpu_us"),
            wall_us: number("wall_us"),
            requests: requests(idp).await,
        }
    }
}

fn us(value: f64) -> String {
    support::fmt(Duration::from_secs_f64(value / 1e6))
}

fn column(samples: &[Sample], f: impl Fn(&Sample) -> f64) -> Vec<f64> {
    samples.iter().map(f).collect()
}

/// How the identity server is reached in one comparison.
#[derive(Clone, Copy, PartialEq)]
enum Transport {
    Tls,
    PlainHttp,
}

impl Transport {
    fn title(self) -> &'static str {
        match self {
            Transport::Tls => "TLS (https, the test CA, verified by both)",
            Transport::PlainHttp => "plain HTTP (for comparison, not judged)",
        }
    }

    /// Chart file names: the judged (TLS) charts keep the names earlier runs used.
    fn chart_suffix(self) -> &'static str {
        match self {
            Transport::Tls => "",
            Transport::PlainHttp => "-http",
        }
    }
}

fn report(transport: Transport, engine: &[Sample], peer: &[Sample]) {
    let rows = [
        ("dcr-core engine (Rust)", engine),
        ("openid-client 6.9.0 (Node.js)", peer),
    ];
    println!(
        "\n### Client CPU per first-run flow (+ refresh), {}: {} flows each, alternating\n",
        transport.title(),
        engine.len()
    );
    println!("| client | CPU median | p95 | min | login CPU (subtracted), median | wall median | back-channel requests per flow |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, samples) in rows {
        let cpu = column(samples, |s| s.cpu_us);
        let mut counts: Vec<usize> = samples.iter().map(|s| s.requests).collect();
        counts.sort();
        counts.dedup();
        let counts: Vec<String> = counts.iter().map(usize::to_string).collect();
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} |",
            us(median(&cpu)),
            us(percentile(&cpu, 0.95)),
            us(percentile(&cpu, 0.0)),
            us(median(&column(samples, |s| s.login_cpu_us))),
            us(median(&column(samples, |s| s.wall_us))),
            counts.join(", ")
        );
    }
    let (ours, theirs) = (
        median(&column(engine, |s| s.cpu_us)),
        median(&column(peer, |s| s.cpu_us)),
    );
    let ratio = ours / theirs;
    if transport == Transport::Tls {
        support::summary::record(support::summary::Row {
            id: "e",
            ratio: "engine CPU per first-run flow (+ refresh) ÷ openid-client's, TLS on both sides",
            subject: "dcr-core engine",
            baseline: "openid-client 6.9.0",
            unit: "ms",
            subject_samples: &column(engine, |s| s.cpu_us / 1000.0),
            baseline_samples: &column(peer, |s| s.cpu_us / 1000.0),
            goal: GOAL,
            bench: "peers",
        });
        println!(
            "\nEngine / openid-client, medians: **{ratio:.3}** (goal ≤ {GOAL:.3}: {}).",
            if ratio <= GOAL { "met" } else { "NOT met" }
        );
    } else {
        println!("\nEngine / openid-client, medians: **{ratio:.3}** (plain HTTP: not judged).");
    }
    println!(
        "Back-channel requests per flow include the refresh (one request); the first run alone is one fewer."
    );

    let bars: Vec<Bar> = rows
        .iter()
        .map(|(name, samples)| {
            let cpu: Vec<f64> = column(samples, |s| s.cpu_us / 1000.0);
            Bar {
                label: name.split(" (").next().unwrap_or(name).to_owned(),
                value: median(&cpu),
                whisker: Some((percentile(&cpu, 0.0), percentile(&cpu, 0.95))),
            }
        })
        .collect();
    measure::write_chart(
        &format!("peers-cpu{}", transport.chart_suffix()),
        &format!("Client CPU per first-run flow, {}", transport.title()),
        &bar_chart(
            &format!(
                "Client CPU per first-run flow, {}, ms (median; whisker min–p95)",
                transport.title()
            ),
            "ms",
            &bars,
            (transport == Transport::Tls)
                .then_some(("goal: 1/10 of openid-client", theirs / 1000.0 * GOAL)),
        ),
    );
    if transport != Transport::Tls {
        return;
    }
    let first_run = |samples: &[Sample]| samples[0].requests as f64 - 1.0;
    measure::write_chart(
        "peers-requests",
        "Back-channel requests on first run",
        &bar_chart(
            "Back-channel requests on first run (server's count)",
            "",
            &[
                Bar {
                    label: "dcr-core engine".into(),
                    value: first_run(engine),
                    whisker: None,
                },
                Bar {
                    label: "openid-client".into(),
                    value: first_run(peer),
                    whisker: None,
                },
            ],
            Some(("goal ≤ 6", 6.0)),
        ),
    );
}

/// Warm-up flows, then `ROUNDS` flows per side, alternating (A B B A …), on `idp`.
async fn compare(idp: &Idp, ca: Option<&Path>) -> (Vec<Sample>, Vec<Sample>) {
    // One back channel for all flows, as the app keeps one; node keeps its global agent. Built
    // here, after main set SSL_CERT_FILE: the trust store is read when a client is built.
    let http = dcr_core::platform::http::back_channel_client();
    let mut peer = Peer::start(idp, ca);
    for _ in 0..support::iterations(WARMUP) {
        engine_flow(idp, &http).await;
        peer.flow(idp).await;
    }
    let (mut engine, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..support::iterations(ROUNDS) {
        if round % 2 == 0 {
            engine.push(engine_flow(idp, &http).await);
            theirs.push(peer.flow(idp).await);
        } else {
            theirs.push(peer.flow(idp).await);
            engine.push(engine_flow(idp, &http).await);
        }
    }
    drop(peer.stdin);
    let _ = peer.child.wait().await;
    (engine, theirs)
}

fn main() {
    if !support::bench_mode("peers") {
        return;
    }
    // The engine trusts the test CA the way a deployment trusts a private one: SSL_CERT_FILE,
    // which rustls-native-certs reads instead of the OS store when a client is built (the
    // scripted browser's client reads it too). Set before the runtime starts any thread.
    let ca = TestCa::new();
    std::env::set_var("SSL_CERT_FILE", ca.ca_file());
    std::env::remove_var("SSL_CERT_DIR");
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    runtime.block_on(async {
        support::print_header("The engine against openid-client");
        measure::print_load("before");
        let options = IdpOptions {
            request_log: true,
            ..IdpOptions::default()
        };
        let idp = Idp::start_tls(options, &ca).await;
        assert_eq!(idp.issuer.scheme(), "https", "{}", idp.issuer);
        let (engine, theirs) = compare(&idp, Some(&ca.ca_file())).await;
        report(Transport::Tls, &engine, &theirs);
        drop(idp);

        let idp = Idp::start_with(options).await;
        assert_eq!(idp.issuer.scheme(), "http", "{}", idp.issuer);
        let (engine, theirs) = compare(&idp, None).await;
        report(Transport::PlainHttp, &engine, &theirs);
        measure::print_load("after");
    });
}
