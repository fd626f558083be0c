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
use dcr_core::platform::http::{
    CappedResponse, OutgoingRequest, SendError, Transport as BackChannel,
};
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

/// [`engine_flow`] as a task on the runtime's workers, which is how the app runs the engine
/// (Tauri runs an async command as a task on its multi-thread tokio runtime), and where hyper
/// runs the back channel's connection tasks. Polled by `block_on` on the main thread instead,
/// which no shell does, every request and every response crossed between the main thread and a
/// worker (6.5 to 9.6 context switches per request against 1.0 to 3.0 on a worker, measured
/// with `engine_split`); openid-client runs its flow on the thread that does its I/O, Node's
/// event loop, so the two sides now run alike.
async fn on_worker(idp: &Arc<Idp>, http: &reqwest::Client) -> Sample {
    let (idp, http) = (Arc::clone(idp), http.clone());
    tokio::spawn(async move { engine_flow(&idp, &http).await })
        .await
        .expect("the engine's flow panicked")
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

/// One back-channel request of a split flow: which, its CPU, and whether it opened a connection.
struct Exchange {
    label: String,
    cpu: Duration,
    new_sockets: usize,
    switches: i64,
}

/// Context switches of this process so far (voluntary + involuntary, all threads).
fn context_switches() -> i64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0, "getrusage failed");
    usage.ru_nvcsw + usage.ru_nivcsw
}

/// The back channel of the split flows: the same shared `reqwest::Client`, with each request's
/// process CPU (all threads: hyper's connection tasks run on the runtime's workers) from the call
/// to the full body, and the sockets it opened (this process's socket inodes before and after, so
/// a connection the pool reuses counts 0 and a new TCP + TLS connection counts 1).
struct SplitTransport {
    inner: reqwest::Client,
    /// The issuer's path, left out of the labels.
    issuer_path: String,
    log: Mutex<Vec<Exchange>>,
    /// CPU spent reading /proc for the socket counts, not the engine's: subtracted.
    overhead: Mutex<Duration>,
}

fn socket_inodes() -> std::collections::HashSet<String> {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|entry| std::fs::read_link(entry.ok()?.path()).ok())
        .map(|target| target.to_string_lossy().into_owned())
        .filter(|target| target.starts_with("socket:"))
        .collect()
}

#[async_trait::async_trait]
impl BackChannel for SplitTransport {
    async fn send(&self, request: OutgoingRequest) -> Result<CappedResponse, SendError> {
        let scan = process_cpu();
        let before = socket_inodes();
        let path = request.url.path();
        let label = format!(
            "{:?} {}",
            request.method,
            path.strip_prefix(self.issuer_path.as_str()).unwrap_or(path)
        );
        let switches = context_switches();
        let start = process_cpu();
        let result = BackChannel::send(&self.inner, request).await;
        let end = process_cpu();
        let cpu = end - start;
        let switches = context_switches() - switches;
        let new_sockets = socket_inodes().difference(&before).count();
        *self.overhead.lock().unwrap_or_else(PoisonError::into_inner) +=
            (start - scan) + (process_cpu() - end);
        self.log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Exchange {
                label,
                cpu,
                new_sockets,
                switches,
            });
        result
    }
}

/// Where the engine's CPU per flow goes: `ROUNDS` more flows, not part of the comparison, with
/// [`SplitTransport`] as the back channel, `Session` construction timed apart, and the login
/// metered as in the comparison, on a worker as there ([`on_worker`]). Mean per flow (means
/// add up; medians do not). Printed after the judged table; these flows are not in it.
async fn engine_split(idp: &Arc<Idp>) {
    let http = dcr_core::platform::http::back_channel_client();
    let rounds = support::iterations(ROUNDS);
    let mut rows: Vec<(String, f64, usize, i64)> = Vec::new();
    let (mut total, mut login, mut construct, mut rest) = (0.0, 0.0, 0.0, 0.0);
    for round in 0..support::iterations(WARMUP) + rounds {
        let transport = Arc::new(SplitTransport {
            inner: http.clone(),
            issuer_path: idp.issuer.path().to_owned(),
            log: Mutex::new(Vec::new()),
            overhead: Mutex::new(Duration::ZERO),
        });
        let config = engine_config(idp, Form::Full);
        let agent = CpuMeteredAgent {
            inner: ScriptedAgent::login(Arc::new(ScriptedBrowser::new())),
            spent: Mutex::new(Duration::ZERO),
        };
        let cpu = process_cpu();
        let session = Session::with_transport(
            config,
            transport.clone() as Arc<dyn BackChannel>,
            Box::new(MemoryStore::new()),
        );
        let built = process_cpu() - cpu;
        session
            .register_and_sign_in(&agent)
            .await
            .expect("first run");
        session.refresh().await.expect("refresh");
        let flow = process_cpu() - cpu;
        session.forget().await.expect("forget");
        requests(idp).await;
        if round < support::iterations(WARMUP) {
            continue;
        }
        let overhead = *transport
            .overhead
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let spent = *agent.spent.lock().unwrap_or_else(PoisonError::into_inner);
        let log =
            std::mem::take(&mut *transport.log.lock().unwrap_or_else(PoisonError::into_inner));
        // Without the forget's DELETE, which is after the measured part.
        let log: Vec<Exchange> = log
            .into_iter()
            .filter(|e| !e.label.starts_with("Delete"))
            .collect();
        let sends: Duration = log.iter().map(|e| e.cpu).sum();
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        total += us(flow - overhead - spent);
        login += us(spent);
        construct += us(built);
        rest += us(flow - overhead - spent - sends - built);
        for (i, exchange) in log.into_iter().enumerate() {
            let label = format!("{}. {}", i + 1, exchange.label);
            match rows.get_mut(i) {
                Some(row) => {
                    assert_eq!(row.0, label, "the flow's requests changed order");
                    row.1 += us(exchange.cpu);
                    row.2 += exchange.new_sockets;
                    row.3 += exchange.switches;
                }
                None => rows.push((
                    label,
                    us(exchange.cpu),
                    exchange.new_sockets,
                    exchange.switches,
                )),
            }
        }
    }
    let n = rounds as f64;
    println!(
        "\n### Where the engine's CPU per flow goes (TLS): {rounds} more flows, mean per flow\n"
    );
    println!("| phase | CPU per flow, mean | new connections per flow | context switches |");
    println!("|---|---:|---:|---:|");
    println!("| `Session::with_transport` | {} | |", us(construct / n));
    for (label, cpu, sockets, switches) in &rows {
        println!(
            "| back channel: {label} (request, TLS, response body) | {} | {:.2} | {:.1} |",
            us(cpu / n),
            *sockets as f64 / n,
            *switches as f64 / n
        );
    }
    println!("| the engine's own work between requests (URLs, PKCE, JSON, ID-token and claim checks, state) | {} | |", us(rest / n));
    println!("| **total (login subtracted)** | **{}** | |", us(total / n));
    println!(
        "| login (scripted browser, subtracted) | {} | |",
        us(login / n)
    );
}

/// Warm-up flows, then `ROUNDS` flows per side, alternating (A B B A …), on `idp`.
async fn compare(idp: &Arc<Idp>, ca: Option<&Path>) -> (Vec<Sample>, Vec<Sample>) {
    // One back channel for all flows, as the app keeps one; node keeps its global agent. Built
    // here, after main set SSL_CERT_FILE: the trust store is read when a client is built.
    let http = dcr_core::platform::http::back_channel_client();
    let mut peer = Peer::start(idp, ca);
    for _ in 0..support::iterations(WARMUP) {
        on_worker(idp, &http).await;
        peer.flow(idp).await;
    }
    let (mut engine, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..support::iterations(ROUNDS) {
        if round % 2 == 0 {
            engine.push(on_worker(idp, &http).await);
            theirs.push(peer.flow(idp).await);
        } else {
            theirs.push(peer.flow(idp).await);
            engine.push(on_worker(idp, &http).await);
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
        let idp = Arc::new(Idp::start_tls(options, &ca).await);
        assert_eq!(idp.issuer.scheme(), "https", "{}", idp.issuer);
        let (engine, theirs) = compare(&idp, Some(&ca.ca_file())).await;
        report(Transport::Tls, &engine, &theirs);
        let split = Arc::clone(&idp);
        tokio::spawn(async move { engine_split(&split).await })
            .await
            .expect("the split flows panicked");
        drop(idp);

        let idp = Arc::new(Idp::start_with(options).await);
        assert_eq!(idp.issuer.scheme(), "http", "{}", idp.issuer);
        let (engine, theirs) = compare(&idp, None).await;
        report(Transport::PlainHttp, &engine, &theirs);
        measure::print_load("after");
    });
}
