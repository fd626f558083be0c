//! Memory, next to baselines measured in the same run:
//!
//! 1. Peak RSS (`/usr/bin/time -f %M`, the kernel's ru_maxrss of the child) of the `dcr` CLI
//!    (release build) doing `status`, a full manual-mode `register` against the bundled identity
//!    server (one password login, RFC 7591, keychain save), `status` again and `forget`, against
//!    `true` and `dcr --help` (the binary loaded, no runtime, no keychain, no network).
//! 2. The desktop app's resident memory once its first screen is up: `dcr-desktop` (the build
//!    in `DCR_APP_BINARY`, default `$CARGO_TARGET_DIR/debug/dcr-desktop`) against WebKitGTK's
//!    own `MiniBrowser` showing `about:blank`, both on the display scripts/bench.sh starts. Both
//!    spawn WebKit's web and network processes, so the whole process tree is counted, as RSS
//!    (shared pages counted in every process) and as PSS (shared pages split between them).

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use dcr_core::device::store::{KeychainStore, RegistrationStore};
use dcr_tests::engine::{self, Form};
use dcr_tests::procs::{self, mib};
use dcr_tests::{repo_root, Idp, ScriptedBrowser, DEMO_USER};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

const CLI_ROUNDS: usize = 5;
const DESKTOP_ROUNDS: usize = 3;
/// How long a window is given to show its first screen before it is measured.
const SETTLE: Duration = Duration::from_secs(5);
const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target"))
}

/// `DCR_BENCH_CLI`, else the release `dcr`, built now so it is never stale.
fn cli_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DCR_BENCH_CLI") {
        return PathBuf::from(path);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "dcr-cli"])
        .current_dir(repo_root())
        .status()
        .expect("cargo runs");
    assert!(
        status.success(),
        "`cargo build --release -p dcr-cli` failed"
    );
    target_dir().join("release/dcr")
}

/// Runs `program args` under `/usr/bin/time` and returns its peak RSS in KiB. Every `open:`
/// line on stderr (the CLI's manual mode) is answered by the scripted browser.
async fn peak_rss(program: &Path, args: &[&str], browser: &ScriptedBrowser) -> u64 {
    let out = std::env::temp_dir().join(format!(
        "dcr-bench-rss-{}-{}",
        std::process::id(),
        dcr_tests::random_token(6)
    ));
    let mut child = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(&out)
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("/usr/bin/time (Debian package `time`) is needed");
    let mut stdin = child.stdin.take().expect("piped");
    let mut lines = BufReader::new(child.stderr.take().expect("piped")).lines();
    let mut errors = Vec::new();
    while let Some(line) = lines.next_line().await.expect("stderr") {
        let Some(url) = line.strip_prefix("open: ") else {
            errors.push(line);
            continue;
        };
        let url = url::Url::parse(url).expect("the open: line holds a URL");
        let back = browser
            .open(url, Some(DEMO_USER))
            .await
            .expect("browser step");
        stdin
            .write_all(format!("{back}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
    }
    let status = child.wait().await.expect("wait");
    assert!(status.success(), "{program:?} {args:?} failed: {errors:?}");
    let text = std::fs::read_to_string(&out).expect("the time output");
    let _ = std::fs::remove_file(&out);
    text.lines()
        .filter_map(|l| l.trim().parse().ok())
        .next_back()
        .expect("a max RSS figure")
}

fn median_max(values: &mut [u64]) -> (u64, u64) {
    values.sort_unstable();
    (values[values.len() / 2], values[values.len() - 1])
}

async fn cli(idp: &Idp, config: &Path) {
    let dcr = cli_binary();
    let config = config.to_str().expect("utf-8 path");
    // Every command but `--help` runs on the bench's config.
    let on_config = |command| vec!["--config", config, command];
    let rows: [(&str, &Path, Vec<&str>); 6] = [
        (
            "`true` (baseline: an empty process)",
            Path::new("/bin/true"),
            vec![],
        ),
        (
            "`dcr --help` (baseline: the binary, no work)",
            &dcr,
            vec!["--help"],
        ),
        (
            "`dcr status`, unregistered (keychain read)",
            &dcr,
            on_config("status"),
        ),
        (
            "`dcr register`, manual mode (login + DCR + keychain save)",
            &dcr,
            on_config("register"),
        ),
        ("`dcr status`, registered", &dcr, on_config("status")),
        (
            "`dcr forget` (RFC 7592 delete + keychain delete)",
            &dcr,
            on_config("forget"),
        ),
    ];
    let mut results = vec![Vec::new(); rows.len()];
    for _ in 0..support::iterations(CLI_ROUNDS) {
        // A fresh browser per round: the registration login asks for the password each time.
        let browser = ScriptedBrowser::new();
        for (i, (_, program, args)) in rows.iter().enumerate() {
            results[i].push(peak_rss(program, args, &browser).await);
        }
    }
    assert!(
        idp.admin_list_clients().await.is_empty(),
        "forget deleted every client"
    );
    println!(
        "\n### Peak RSS of the `dcr` CLI (release), {} runs each\n",
        results[0].len()
    );
    println!("| command | median peak RSS | max |");
    println!("|---|---:|---:|");
    for ((name, _, _), values) in rows.iter().zip(results.iter_mut()) {
        let (median, max) = median_max(values);
        println!("| {name} | {} | {} |", mib(median), mib(max));
    }
}

/// Resident KiB of the mappings of the process's own executable file (/proc/<pid>/smaps).
fn exe_pages(pid: u32) -> u64 {
    let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else {
        return 0;
    };
    let exe = exe.to_string_lossy().into_owned();
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let (mut ours, mut total) = (false, 0);
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or_default();
        if first.contains('-') && !first.ends_with(':') {
            // A mapping header: `start-end perms offset dev inode [path]`.
            ours = fields.nth(4) == Some(exe.as_str());
        } else if ours && first == "Rss:" {
            total += fields
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

struct TreeMemory {
    rss: u64,
    pss: u64,
    root_rss: u64,
    /// The part of `root_rss` that is the executable file's own pages (code and data).
    exe_rss: u64,
    names: Vec<String>,
}

/// Starts a window, waits for its first screen, reads its tree's memory, stops it by PID.
async fn window_memory(program: &Path, args: &[&str]) -> TreeMemory {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
    let root = child.id().expect("a running child");
    tokio::time::sleep(SETTLE).await;
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "{} exited early",
        program.display()
    );
    let tree = procs::tree_memory(root);
    let memory = TreeMemory {
        rss: tree.rss,
        pss: tree.pss,
        root_rss: procs::rss_kib(Some(root)),
        exe_rss: exe_pages(root),
        names: tree.names,
    };
    // Stop the tree this bench started, children first, by PID.
    procs::terminate_tree(root);
    if tokio::time::timeout(Duration::from_secs(5), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
    memory
}

async fn desktop(config: &Path) {
    let app = std::env::var_os("DCR_APP_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug/dcr-desktop"));
    if std::env::var_os("DISPLAY").is_none() || !app.is_file() || !Path::new(MINIBROWSER).is_file()
    {
        println!(
            "\nDesktop memory skipped: needs DISPLAY (scripts/bench.sh starts Xvfb), {} and {MINIBROWSER}",
            app.display()
        );
        return;
    }
    let config = config.to_str().expect("utf-8 path");
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for _ in 0..support::iterations(DESKTOP_ROUNDS) {
        ours.push(window_memory(&app, &["--config", config]).await);
        base.push(window_memory(Path::new(MINIBROWSER), &["about:blank"]).await);
    }
    let profile = if app.components().any(|c| c.as_os_str() == "release") {
        "release"
    } else {
        "debug"
    };
    println!(
        "\n### Desktop app after {}s vs MiniBrowser on about:blank, {} runs each\n",
        SETTLE.as_secs(),
        ours.len()
    );
    println!("`{}` ({profile} build).\n", app.display());
    println!(
        "| window | processes | main process RSS | of which its executable | tree RSS | tree PSS |"
    );
    println!("|---|---|---:|---:|---:|---:|");
    for (name, runs) in [
        ("dcr-desktop, first screen", &ours),
        ("MiniBrowser about:blank (baseline)", &base),
    ] {
        let (root, _) = median_max(&mut runs.iter().map(|m| m.root_rss).collect::<Vec<_>>());
        let (exe, _) = median_max(&mut runs.iter().map(|m| m.exe_rss).collect::<Vec<_>>());
        let (rss, _) = median_max(&mut runs.iter().map(|m| m.rss).collect::<Vec<_>>());
        let (pss, _) = median_max(&mut runs.iter().map(|m| m.pss).collect::<Vec<_>>());
        let names = runs[0].names.join(", ");
        println!(
            "| {name} | {names} | {} | {} | {} | {} |",
            mib(root),
            mib(exe),
            mib(rss),
            mib(pss)
        );
    }
}

fn main() {
    support::with_keyring_and_idp("memory", "Memory", |idp| async move {
        let dir = std::env::temp_dir().join(format!("dcr-bench-memory-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        let config = dir.join("config.json");
        std::fs::write(&config, engine::config_json(&idp, Form::Full).to_string()).expect("config");
        // An entry left by an earlier run on the same port would make `register` a no-op.
        KeychainStore::new()
            .delete(&engine::store_key(&idp, Form::Full))
            .expect("the Secret Service answers");
        cli(&idp, &config).await;
        desktop(&config).await;
        let _ = std::fs::remove_dir_all(&dir);
        drop(idp);
    });
}
