//! Containers on a pure cgroup v2 kernel, with the real docker CLI and `berth`: limits
//! land in the unified hierarchy's files, OOM kills are seen, stats read v2 counters,
//! `update` and `pause` write the live cgroup, and nothing is left after `rm`.
//!
//! On a v2 host the checks run here. On a v1 or hybrid host (CI's) this test boots a
//! throwaway VM with `scripts/cgroup-v2-vm.sh` (a Debian kernel booted with
//! `cgroup_no_v1=all`, on this host's own root filesystem) and runs this same test binary
//! there, so the v2 code paths run for real on every test run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use berth_testkit::check::{inspect, ok, text, wait_until};
use berth_testkit::{cleanup, TestDaemon};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// Set in the VM's environment, so a VM that is not v2 after all fails instead of looping.
const IN_VM: &str = "BERTH_CGROUP_V2_VM";

/// True when `/sys/fs/cgroup` is the unified hierarchy (no v1 controller mounted).
fn host_is_cgroup_v2() -> bool {
    Path::new(CGROUP_ROOT).join("cgroup.controllers").exists()
}

/// The container's cgroup directory: `berth/<id>` beside the daemon's `daemon` leaf.
fn container_cgroup(d: &TestDaemon, id: &str) -> PathBuf {
    Path::new(CGROUP_ROOT)
        .join(&d.cgroup_parent)
        .join("berth")
        .join(id)
}

fn read_cgroup(dir: &Path, file: &str) -> String {
    let path = dir.join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim_end()
        .to_owned()
}

#[test]
fn containers_on_cgroup_v2() {
    if host_is_cgroup_v2() {
        v2_checks();
        return;
    }
    assert!(
        std::env::var_os(IN_VM).is_none(),
        "the cgroup v2 VM booted without a unified /sys/fs/cgroup"
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/cgroup-v2-vm.sh");
    let exe = std::env::current_exe().expect("the test binary's path");
    let started = Instant::now();
    let out = Command::new("bash")
        .arg(&script)
        .arg(&exe)
        .args([
            "--exact",
            "containers_on_cgroup_v2",
            "--nocapture",
            "--test-threads=1",
            "--color=never",
        ])
        .env(IN_VM, "1")
        // Bounds a hung VM; the run takes one to two minutes even under TCG emulation.
        .env(
            "BERTH_VM_TIMEOUT",
            std::env::var("BERTH_VM_TIMEOUT").unwrap_or_else(|_| "480".into()),
        )
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", script.display()));
    let report = text(&out);
    eprintln!("cgroup v2 VM ({:.0?}):\n{report}", started.elapsed());
    assert!(
        out.status.success(),
        "the checks failed in the cgroup v2 VM"
    );
    // The inner harness ran exactly this test, and it passed.
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("test result: ok. 1 passed"),
        "the VM did not run the test"
    );
}

/// Everything the test checks, on a v2 host (the VM's or a real one).
fn v2_checks() {
    // Started in a cgroup of its own and without --cgroup-parent, as a service would be:
    // the daemon moves itself into a `daemon` leaf and nests containers under `berth`.
    let d = TestDaemon::start_in_own_cgroup(BIN);
    let daemon_pid = d.pid().unwrap();
    let own = std::fs::read_to_string(format!("/proc/{daemon_pid}/cgroup")).unwrap();
    assert_eq!(own.trim(), format!("0::/{}/daemon", d.cgroup_parent));
    d.load_busybox();

    let info = ok(d.docker(&["info", "--format", "{{.CgroupVersion}} {{.CgroupDriver}}"]));
    assert_eq!(info.trim(), "2 cgroupfs");

    assert_eq!(
        ok(d.docker(&["run", "--rm", "busybox", "echo", "hi"])),
        "hi\n"
    );
    let out = d.berth(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo from-berth; exit 3",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "from-berth\n");

    cgroup_namespaces(&d);
    limits_stats_update_pause(&d);
    oom_kill(&d);
    pids_limit_contains_a_fork_bomb(&d);

    assert_eq!(ok(d.docker(&["ps", "-aq"])), "");
    let left: Vec<_> =
        std::fs::read_dir(Path::new(CGROUP_ROOT).join(&d.cgroup_parent).join("berth"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .collect();
    assert!(left.is_empty(), "container cgroups left: {left:?}");
    let pids = cleanup::cgroup_pids(&d.cgroup_parent);
    assert_eq!(pids, vec![daemon_pid as i32], "only the daemon is left");
}

/// Docker's default on v2 is a private cgroup namespace: the container's cgroup is its `/`.
fn cgroup_namespaces(d: &TestDaemon) {
    let own = ok(d.docker(&["run", "--name", "ns", "busybox", "cat", "/proc/self/cgroup"]));
    assert_eq!(own, "0::/\n");
    assert_eq!(inspect(d, "ns")["HostConfig"]["CgroupnsMode"], "private");
    ok(d.docker(&["rm", "ns"]));
    let host = ok(d.docker(&[
        "run",
        "--rm",
        "--cgroupns",
        "host",
        "busybox",
        "cat",
        "/proc/self/cgroup",
    ]));
    assert!(
        host.starts_with(&format!("0::/{}/berth/", d.cgroup_parent)),
        "{host}"
    );
}

fn limits_stats_update_pause(d: &TestDaemon) {
    let id = ok(d.docker(&[
        "run",
        "-d",
        "--name",
        "limited",
        "--memory",
        "16m",
        "--pids-limit",
        "20",
        "--cpus",
        "0.5",
        "--cpu-shares",
        "512",
        "busybox",
        "sh",
        "-c",
        // Some memory of its own, so usage cannot be zero.
        "x=$(seq 20000); sleep 300",
    ]))
    .trim()
    .to_owned();
    let cg = container_cgroup(d, &id);
    assert!(cg.is_dir(), "no cgroup at {}", cg.display());
    assert_eq!(read_cgroup(&cg, "memory.max"), "16777216");
    assert_eq!(read_cgroup(&cg, "pids.max"), "20");
    assert_eq!(read_cgroup(&cg, "cpu.max"), "50000 100000");
    // Docker sets MemorySwap to twice Memory: the v2 swap file holds the difference.
    assert_eq!(read_cgroup(&cg, "memory.swap.max"), "16777216");
    let pid = inspect(d, "limited")["State"]["Pid"].as_i64().unwrap();
    let own = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
    assert_eq!(
        own.trim(),
        format!("0::/{}/berth/{id}", d.cgroup_parent),
        "the container's process is not in its cgroup"
    );

    // stats and top read the v2 files.
    wait_until("memory use", Duration::from_secs(20), || {
        read_cgroup(&cg, "memory.current") != "0"
    });
    let stats = ok(d.docker(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.MemUsage}}|{{.PIDs}}",
        "limited",
    ]));
    let (mem, pids) = stats.trim().split_once('|').unwrap();
    let (usage, limit) = mem.split_once(" / ").unwrap();
    assert!(usage.ends_with('B') && usage != "0B", "{stats}");
    assert_eq!(limit, "16MiB", "{stats}");
    assert!(pids.parse::<u32>().unwrap() >= 1, "{stats}");
    let raw = d
        .http("GET", "/containers/limited/stats?stream=false", &[], b"")
        .unwrap();
    assert_eq!(raw.status, 200);
    let v: Value = serde_json::from_str(&raw.text()).unwrap();
    assert!(v["memory_stats"]["usage"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["memory_stats"]["limit"], 16u64 << 20, "{v}");
    assert!(v["memory_stats"]["stats"]["anon"].is_u64(), "{v}");
    assert_eq!(v["pids_stats"]["limit"], 20, "{v}");
    assert!(v["cpu_stats"]["cpu_usage"]["total_usage"].as_u64().unwrap() > 0);
    let top = ok(d.docker(&["top", "limited"]));
    assert!(top.contains("sleep 300"), "{top}");

    // update writes the live cgroup (and the record).
    ok(d.docker(&[
        "update",
        "--memory",
        "32m",
        "--memory-swap",
        "64m",
        "--pids-limit",
        "30",
        "--cpus",
        "1.5",
        "limited",
    ]));
    assert_eq!(read_cgroup(&cg, "memory.max"), "33554432");
    assert_eq!(read_cgroup(&cg, "memory.swap.max"), "33554432");
    assert_eq!(read_cgroup(&cg, "pids.max"), "30");
    assert_eq!(read_cgroup(&cg, "cpu.max"), "150000 100000");
    assert_eq!(inspect(d, "limited")["HostConfig"]["Memory"], 32 << 20);
    let out = d.berth(&[
        "update",
        "--memory",
        "48m",
        "--memory-swap",
        "96m",
        "limited",
    ]);
    ok(out);
    assert_eq!(read_cgroup(&cg, "memory.max"), "50331648");

    // pause freezes through cgroup.freeze; exec still joins the container's cgroup after.
    ok(d.docker(&["pause", "limited"]));
    assert_eq!(read_cgroup(&cg, "cgroup.freeze"), "1");
    assert!(read_cgroup(&cg, "cgroup.events").contains("frozen 1"));
    assert_eq!(inspect(d, "limited")["State"]["Status"], "paused");
    ok(d.docker(&["unpause", "limited"]));
    assert_eq!(read_cgroup(&cg, "cgroup.freeze"), "0");
    assert!(read_cgroup(&cg, "cgroup.events").contains("frozen 0"));
    assert_eq!(inspect(d, "limited")["State"]["Status"], "running");
    let out = ok(d.docker(&["exec", "limited", "cat", "/sys/fs/cgroup/memory.max"]));
    assert_eq!(out.trim(), "50331648");

    ok(d.docker(&["rm", "-f", "limited"]));
    wait_until(
        "the container's cgroup to go",
        Duration::from_secs(10),
        || !cg.exists(),
    );
}

fn oom_kill(d: &TestDaemon) {
    let out = d.docker(&[
        "run",
        "--name",
        "hog",
        "--memory",
        "16m",
        "--memory-swap",
        "16m",
        "busybox",
        "sh",
        "-c",
        "x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done",
    ]);
    assert_eq!(out.status.code(), Some(137), "{}", text(&out));
    let state = &inspect(d, "hog")["State"];
    assert_eq!(state["OOMKilled"], true, "{state}");
    ok(d.docker(&["rm", "hog"]));
}

fn pids_limit_contains_a_fork_bomb(d: &TestDaemon) {
    let out = d.docker(&[
        "run",
        "--rm",
        "--pids-limit",
        "20",
        "busybox",
        "sh",
        "-c",
        "cat /sys/fs/cgroup/pids.max; for i in $(seq 50); do sleep 5 & done; wait; echo done",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("can't fork") || err.contains("Resource temporarily unavailable"),
        "{}",
        text(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with("20\n"),
        "{}",
        text(&out)
    );
}
