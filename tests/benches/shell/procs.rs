//! Process-tree memory: an app and the WebKit processes it spawns (web content, network),
//! found through /proc parent links; PSS splits shared library pages between the processes
//! that map them, so the sum over the tree counts each page once.

use std::time::Duration;

/// `root` and all its descendants.
pub fn tree(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
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

/// Sum of `Pss:` over /proc/<pid>/smaps_rollup of the whole tree, in KiB, and the process names.
pub fn tree_pss(root: u32) -> (u64, Vec<String>) {
    let mut total = 0;
    let mut names = Vec::new();
    for pid in tree(root) {
        total += std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                l.strip_prefix("Pss:")?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(0);
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
        names.push(
            String::from_utf8_lossy(argv0)
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned(),
        );
    }
    (total, names)
}

/// Stops `root`'s tree (children first) by PID, and reaps `child`.
pub fn stop(child: &mut std::process::Child) {
    let root = child.id();
    for pid in tree(root).iter().rev() {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    for _ in 0..100 {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The PID of the running process whose command line is exactly `command_line`.
pub fn find(command_line: &[String]) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let raw = std::fs::read(entry.path().join("cmdline")).ok()?;
            let parts: Vec<String> = raw
                .split(|b| *b == 0)
                .filter(|p| !p.is_empty())
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            (parts == command_line).then_some(pid)
        })
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}
