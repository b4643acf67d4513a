//! Leaves nothing behind: shims (and through them containers) killed by the PIDs they
//! recorded, then every process left in the test's cgroups, then the cgroups themselves.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

fn find_files(dir: &Path, name: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => find_files(&p, name, out),
            Ok(_) if e.file_name() == name => out.push(p),
            _ => {}
        }
    }
}

/// SIGKILLs every shim whose pidfile is under `exec_root`.
pub fn kill_shims(exec_root: &Path) {
    let mut files = Vec::new();
    find_files(exec_root, "shim.pid", &mut files);
    for f in files {
        if let Some(pid) = fs::read_to_string(&f)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
        {
            if pid > 1 {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
}

/// Every hierarchy's directory for `parent` that exists (v2: at most one; v1: one per
/// mounted controller).
pub fn cgroup_dirs(parent: &str) -> Vec<PathBuf> {
    let root = Path::new("/sys/fs/cgroup");
    let rel = parent.trim_start_matches('/');
    if root.join("cgroup.controllers").exists() {
        return Some(root.join(rel))
            .filter(|d| d.exists())
            .into_iter()
            .collect();
    }
    let Ok(entries) = fs::read_dir(root) else {
        return vec![];
    };
    entries
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.path().join(rel))
        .filter(|p| p.exists())
        .collect()
}

fn subdirs_deepest_first(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                subdirs_deepest_first(&e.path(), out);
            }
        }
    }
    out.push(dir.to_owned());
}

/// The PIDs still in any cgroup under `parent`.
pub fn cgroup_pids(parent: &str) -> Vec<i32> {
    let mut pids = Vec::new();
    for top in cgroup_dirs(parent) {
        let mut dirs = Vec::new();
        subdirs_deepest_first(&top, &mut dirs);
        for d in dirs {
            if let Ok(text) = fs::read_to_string(d.join("cgroup.procs")) {
                pids.extend(text.lines().filter_map(|l| l.trim().parse::<i32>().ok()));
            }
        }
    }
    pids.sort_unstable();
    pids.dedup();
    pids
}

/// Kills what is left in the cgroups under `parent` (thawing frozen ones) and removes them.
pub fn remove_cgroups(parent: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for top in cgroup_dirs(parent) {
            let mut dirs = Vec::new();
            subdirs_deepest_first(&top, &mut dirs);
            for d in &dirs {
                let _ = fs::write(d.join("freezer.state"), "THAWED");
                let _ = fs::write(d.join("cgroup.freeze"), "0");
            }
        }
        let pids = cgroup_pids(parent);
        for pid in &pids {
            if *pid > 1 {
                let _ = kill(Pid::from_raw(*pid), Signal::SIGKILL);
            }
        }
        for top in cgroup_dirs(parent) {
            let mut dirs = Vec::new();
            subdirs_deepest_first(&top, &mut dirs);
            for d in dirs {
                let _ = fs::remove_dir(&d);
            }
        }
        if cgroup_dirs(parent).is_empty() || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The bridges a test daemon made (its default bridge and those of its user networks, as
/// its network records name them).
pub fn daemon_bridges(data_root: &Path, default_bridge: &str) -> Vec<String> {
    let mut out = vec![default_bridge.to_owned()];
    if let Ok(entries) = std::fs::read_dir(data_root.join("network")) {
        for e in entries.flatten() {
            let Ok(text) = std::fs::read_to_string(e.path()) else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                continue;
            };
            if let Some(b) = v["bridge"].as_str().filter(|b| !b.is_empty()) {
                if !out.iter().any(|o| o == b) {
                    out.push(b.to_owned());
                }
            }
        }
    }
    out
}

/// Whether a network link exists on the host.
pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Removes a test daemon's bridges and nftables table (its veths went with the network
/// namespaces when their bind mounts were detached). The test kit may shell out; the
/// product never does for links.
pub fn remove_network_state(data_root: &Path, default_bridge: &str, table: &str) {
    for b in daemon_bridges(data_root, default_bridge) {
        if link_exists(&b) {
            let _ = std::process::Command::new("ip")
                .args(["link", "delete", &b])
                .status();
        }
    }
    let _ = std::process::Command::new("nft")
        .args(["delete", "table", "ip", table])
        .stderr(std::process::Stdio::null())
        .status();
}
