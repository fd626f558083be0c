//! Processes read through /proc: a process tree (an app and the WebKit processes it spawns,
//! found through parent links), its memory, and the processes running a given command line.
//! The end-to-end tests use it to find and stop the app; the benches to measure it.

use std::path::Path;
use std::time::Duration;

/// The standard output of a finished command, after checking that it succeeded; a failure
/// names `what` and shows the command's standard error.
pub fn stdout_of_success(what: &str, output: std::process::Output) -> Vec<u8> {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// `root` and all its descendants, parents before children.
pub fn tree(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = pids()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // The command name may hold spaces and parentheses: fields follow the last ')'.
            let ppid = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(
            parents
                .iter()
                .filter(|(_, pp)| *pp == parent)
                .map(|(p, _)| *p),
        );
        i += 1;
    }
    tree
}

/// Every process id in /proc right now.
fn pids() -> impl Iterator<Item = u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
}

/// The arguments of `pid` (empty when it is gone).
fn command_line(pid: u32) -> Vec<String> {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|byte| *byte == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}

/// The processes running with exactly `command_line` (binary and arguments).
pub fn running(command_line: &[String]) -> Vec<u32> {
    pids()
        .filter(|pid| self::command_line(*pid) == command_line)
        .collect()
}

/// The processes whose executable is `binary` (whatever their arguments).
pub fn running_exe(binary: &Path) -> Vec<u32> {
    pids()
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary))
        .collect()
}

/// Waits until `running` finds no process; after 10 s sends those it finds SIGTERM, and fails
/// if any is still there 10 s later. `what` names them in the messages.
pub async fn wait_until_gone(running: impl Fn() -> Vec<u32>, what: &str) {
    for round in 0..2 {
        for _ in 0..100 {
            if running().is_empty() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if round == 0 {
            eprintln!("{what} lingered 10 s after its session: SIGTERM");
            for pid in running() {
                let _ = tokio::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status()
                    .await;
            }
        }
    }
    panic!("{what} did not exit after its session");
}

/// The first process whose `argv[0]` is `binary` (the app started by tauri-driver).
pub fn running_binary(binary: &Path) -> Option<u32> {
    let wanted = binary.to_string_lossy();
    pids().find(|pid| command_line(*pid).first().map(String::as_str) == Some(&*wanted))
}

/// `argv[0]`'s file name: `comm` is cut at 15 characters.
pub fn name(pid: u32) -> String {
    command_line(pid)
        .first()
        .and_then(|arg0| arg0.rsplit('/').next())
        .unwrap_or_default()
        .to_owned()
}

/// A `Name:   123 kB` field of a /proc file, in KiB (0 when absent).
pub fn kib_field(path: &str, field: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resident set of `pid` in KiB (`VmRSS`); `None` for this process.
pub fn rss_kib(pid: Option<u32>) -> u64 {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    kib_field(&path, "VmRSS:")
}

/// Proportional set of `pid` in KiB (`/proc/<pid>/smaps_rollup`).
pub fn pss_kib(pid: u32) -> u64 {
    kib_field(&format!("/proc/{pid}/smaps_rollup"), "Pss:")
}

/// The memory of a process tree, in KiB. RSS counts a shared library page in every process
/// that maps it; PSS splits it between them, so the sum over the tree counts each page once.
pub struct TreeMemory {
    pub pids: Vec<u32>,
    pub rss: u64,
    pub pss: u64,
    /// Each process's [`name`], in the order of `pids`.
    pub names: Vec<String>,
}

/// Reads the memory of `root`'s tree now.
pub fn tree_memory(root: u32) -> TreeMemory {
    let pids = tree(root);
    TreeMemory {
        rss: pids.iter().map(|pid| rss_kib(Some(*pid))).sum(),
        pss: pids.iter().map(|pid| pss_kib(*pid)).sum(),
        names: pids.iter().map(|pid| name(*pid)).collect(),
        pids,
    }
}

/// Sends SIGTERM to `root`'s tree, children first, by PID (never by name: other tests' and
/// engineers' processes share the machine). Returns the PIDs signalled.
pub fn terminate_tree(root: u32) -> Vec<u32> {
    let pids = tree(root);
    for pid in pids.iter().rev() {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    pids
}

/// Stops `child`'s tree with SIGTERM and reaps it; SIGKILL if it is still there after 5 s.
pub fn stop(child: &mut std::process::Child) {
    terminate_tree(child.id());
    for _ in 0..100 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// KiB as `12.3 MiB`, for reports.
pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
