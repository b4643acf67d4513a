//! Stats, pids and top on real cgroups holding processes this test spawned: a busy
//! loop and a shell holding ~30 MB. The cgroups and processes are removed even when an
//! assertion fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use berth_runtime::stats::{self, CgroupLayout};
use berth_runtime::top::{top, TopError};

const V1_CONTROLLERS: &[&str] = &["cpu", "cpuacct", "memory", "pids", "blkio"];

/// Processes and cgroup directories to clean up.
struct Fixture {
    children: Vec<(Child, Option<ChildStdin>)>,
    dirs: Vec<PathBuf>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        for (child, _) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for dir in &self.dirs {
            // The kernel frees a cgroup a moment after its last process exits.
            for _ in 0..100 {
                if std::fs::remove_dir(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Fixture {
    /// Creates `<root>/<controller>/<name>` for each controller (or `<root>/<name>`).
    fn new(cgroup_dirs: Vec<PathBuf>) -> Self {
        let mut fixture = Fixture {
            children: Vec::new(),
            dirs: Vec::new(),
        };
        for dir in cgroup_dirs {
            std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
            fixture.dirs.push(dir);
        }
        fixture
    }

    /// Starts `sh -c 'read _; <script>'` inside every cgroup of the fixture; the script
    /// runs once the process is in.
    fn spawn(&mut self, script: &str) -> i32 {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("read _; {script}"))
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn sh");
        let pid = child.id() as i32;
        let mut stdin = child.stdin.take();
        self.children.push((child, None));
        for dir in &self.dirs {
            std::fs::write(dir.join("cgroup.procs"), pid.to_string())
                .unwrap_or_else(|e| panic!("join {}: {e}", dir.display()));
        }
        stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
        self.children.last_mut().unwrap().1 = stdin;
        pid
    }
}

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("berth-test-{}-{nanos}", std::process::id())
}

/// docker stats' CPU %: container CPU delta over host CPU delta, times online CPUs.
fn cli_cpu_percent(v: &serde_json::Value) -> f64 {
    let u = |k: &str, f: &str| v[k][f].as_u64().unwrap_or(0) as f64;
    let cpu = v["cpu_stats"]["cpu_usage"]["total_usage"].as_f64().unwrap()
        - v["precpu_stats"]["cpu_usage"]["total_usage"]
            .as_f64()
            .unwrap();
    let system = u("cpu_stats", "system_cpu_usage") - u("precpu_stats", "system_cpu_usage");
    cpu / system * u("cpu_stats", "online_cpus") * 100.0
}

/// The script holding ~30 MB in a shell variable until stdin closes.
const HOLD_MEMORY: &str = "x=$(head -c 30000000 /dev/zero | tr '\\0' a); read _";
const BUSY: &str = "while :; do :; done";

#[test]
fn v1_stats_pids_and_top_of_a_real_cgroup() {
    let root = Path::new("/sys/fs/cgroup");
    if !matches!(CgroupLayout::detect(), CgroupLayout::V1 { .. }) {
        eprintln!("skipped: the host has no cgroup v1 hierarchies");
        return;
    }
    let name = unique_name();
    let mut fx = Fixture::new(
        V1_CONTROLLERS
            .iter()
            .map(|c| root.join(c).join(&name))
            .collect(),
    );
    std::fs::write(root.join("pids").join(&name).join("pids.max"), "50").unwrap();
    let busy = fx.spawn(BUSY);
    let holder = fx.spawn(HOLD_MEMORY);
    std::thread::sleep(Duration::from_millis(800));

    let cgroups_path = format!("/{name}");
    let first = stats::read(&cgroups_path).unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let second = stats::read(&cgroups_path).unwrap();

    let cpu = second.cpu.as_ref().expect("cpuacct stats");
    let before = first.cpu.as_ref().unwrap().total_usage;
    assert!(
        before > 0 && cpu.total_usage > before,
        "{before} then {}",
        cpu.total_usage
    );
    assert!(cpu.usage_in_usermode > 0);
    assert!(cpu.percpu_usage.len() >= second.online_cpus as usize);
    let percpu: u64 = cpu.percpu_usage.iter().sum();
    assert!(
        percpu.abs_diff(cpu.total_usage) < cpu.total_usage / 20,
        "{percpu} vs {}",
        cpu.total_usage
    );

    let v = stats::to_docker(&second, Some(&first), Some("/test"), Some("id"));
    let percent = cli_cpu_percent(&v);
    assert!(
        (10.0..250.0).contains(&percent),
        "CPU {percent}% for one busy loop"
    );

    let mem = &v["memory_stats"];
    let usage = mem["usage"].as_u64().unwrap();
    let inactive = mem["stats"]["total_inactive_file"].as_u64().unwrap();
    assert!(
        usage - inactive.min(usage) > 25_000_000,
        "memory usage {usage}"
    );
    assert_eq!(
        mem["limit"].as_u64(),
        Some(second.machine_memory),
        "unlimited shows host memory"
    );
    assert_eq!(
        v["pids_stats"],
        serde_json::json!({"current": 2, "limit": 50})
    );
    assert!(v["blkio_stats"]["io_service_bytes_recursive"].is_array());

    let mut want = vec![busy, holder];
    want.sort_unstable();
    let pids = stats::pids(&cgroups_path).unwrap();
    assert_eq!(pids, want);

    let (titles, rows) = top(&pids, "").unwrap();
    let pid_col = titles.iter().position(|t| t == "PID").expect("PID column");
    let mut listed: Vec<i32> = rows.iter().map(|r| r[pid_col].parse().unwrap()).collect();
    listed.sort_unstable();
    assert_eq!(listed, want);
    assert!(
        rows.iter()
            .all(|r| r.last().unwrap().starts_with("sh -c read _;")),
        "{rows:?}"
    );
    let (_, aux_rows) = top(&pids, "aux").unwrap();
    assert_eq!(aux_rows.len(), 2);

    assert!(matches!(top(&pids, "-o comm"), Err(TopError::NoPidField)));
    let err = top(&pids, "--no-such-option").unwrap_err();
    assert!(matches!(err, TopError::Ps(_)));
    assert!(
        err.to_string().starts_with("ps: ") && err.to_string().len() > 4,
        "{err}"
    );

    drop(fx);
    assert!(matches!(
        stats::read(&cgroups_path),
        Err(stats::StatsError::NotFound(_))
    ));
}

#[test]
fn v2_stats_and_pids_of_a_real_cgroup() {
    // A pure v2 host, or the unified hierarchy of a hybrid one.
    let root = [
        Path::new("/sys/fs/cgroup"),
        Path::new("/sys/fs/cgroup/unified"),
    ]
    .into_iter()
    .find(|r| r.join("cgroup.controllers").exists());
    let Some(root) = root else {
        eprintln!("skipped: no cgroup v2 hierarchy");
        return;
    };
    let layout = CgroupLayout::V2 {
        root: root.to_path_buf(),
    };
    let name = unique_name();
    let mut fx = Fixture::new(vec![root.join(&name)]);
    let busy = fx.spawn(BUSY);
    std::thread::sleep(Duration::from_millis(500));

    let cgroups_path = format!("/{name}");
    // The busy loop's own CPU time, as the kernel counts it per process (in 10 ms ticks),
    // just before and just after the cgroup is read: it keeps running meanwhile, and the
    // read can take a while on a slow (emulated) machine.
    let process_ns = || {
        let proc_stat = std::fs::read_to_string(format!("/proc/{busy}/stat")).unwrap();
        let fields: Vec<&str> = proc_stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .collect();
        let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        ticks * 10_000_000
    };
    let before = process_ns();
    let s = layout.read(&cgroups_path).unwrap();
    let after = process_ns();
    let cpu = s.cpu.as_ref().unwrap();
    assert!(cpu.total_usage > 0);
    let slack = 50_000_000 + after / 10;
    assert!(
        cpu.total_usage + slack >= before && cpu.total_usage <= after + slack,
        "cgroup says {} ns, the process used {before}..{after} ns",
        cpu.total_usage
    );
    assert!(cpu.percpu_usage.is_empty());
    if root.join(&name).join("memory.current").exists() {
        assert!(s.memory.as_ref().unwrap().usage > 0);
    }
    assert_eq!(layout.pids(&cgroups_path).unwrap(), vec![busy]);
    let v = stats::to_docker(&s, None, None, None);
    assert!(v["cpu_stats"]["cpu_usage"].get("percpu_usage").is_none());
    assert!(v["blkio_stats"]["io_serviced_recursive"].is_null());
}
