//! Facts about the host the daemon runs on, read once at start for `info` and `version`.

use std::fs;
use std::path::Path;

/// `statfs` magic of a cgroup2 mount (linux/magic.h).
const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

#[derive(Debug, Clone)]
pub struct HostInfo {
    pub hostname: String,
    pub kernel_version: String,
    pub operating_system: String,
    pub os_version: String,
    pub architecture: String,
    pub ncpu: usize,
    pub mem_total: u64,
    pub cgroup: CgroupFacts,
    pub ipv4_forwarding: bool,
}

/// Which cgroup version is mounted and which controllers the daemon can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupFacts {
    pub version: u8,
    pub memory_limit: bool,
    pub swap_limit: bool,
    pub cpu_cfs: bool,
    pub cpu_shares: bool,
    pub cpuset: bool,
    pub pids_limit: bool,
}

impl HostInfo {
    pub fn read() -> Self {
        let uts = nix::sys::utsname::uname().ok();
        let field = |f: fn(&nix::sys::utsname::UtsName) -> &std::ffi::OsStr| {
            uts.as_ref()
                .map(|u| f(u).to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let os_release = fs::read_to_string("/etc/os-release").unwrap_or_default();
        Self {
            hostname: nix::unistd::gethostname()
                .map(|h| h.to_string_lossy().into_owned())
                .unwrap_or_default(),
            kernel_version: field(|u| u.release()),
            operating_system: os_release_value(&os_release, "PRETTY_NAME")
                .unwrap_or_else(|| "Linux".to_owned()),
            os_version: os_release_value(&os_release, "VERSION_ID").unwrap_or_default(),
            architecture: field(|u| u.machine()),
            ncpu: std::thread::available_parallelism().map_or(1, |n| n.get()),
            mem_total: meminfo_total(&fs::read_to_string("/proc/meminfo").unwrap_or_default()),
            cgroup: CgroupFacts::read(Path::new("/sys/fs/cgroup")),
            ipv4_forwarding: fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
                .is_ok_and(|s| s.trim() == "1"),
        }
    }
}

impl CgroupFacts {
    fn read(root: &Path) -> Self {
        let is_v2 = nix::sys::statfs::statfs(root)
            .is_ok_and(|s| s.filesystem_type().0 == CGROUP2_SUPER_MAGIC);
        if is_v2 {
            let controllers =
                fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
            let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
            Self {
                version: 2,
                memory_limit: has("memory"),
                // The root has no memory.swap.max; the kernel has swap accounting when swap
                // controls exist in any child, and CONFIG_MEMCG_SWAP is the norm on v2.
                swap_limit: has("memory"),
                cpu_cfs: has("cpu"),
                cpu_shares: has("cpu"),
                cpuset: has("cpuset"),
                pids_limit: has("pids"),
            }
        } else {
            let exists = |p: &str| root.join(p).exists();
            Self {
                version: 1,
                memory_limit: exists("memory/memory.limit_in_bytes"),
                swap_limit: exists("memory/memory.memsw.limit_in_bytes"),
                cpu_cfs: exists("cpu/cpu.cfs_quota_us"),
                cpu_shares: exists("cpu/cpu.shares"),
                cpuset: exists("cpuset/cpuset.cpus"),
                pids_limit: exists("pids/pids.max") || exists("pids"),
            }
        }
    }

    /// The warnings `docker info` prints for missing cgroup features, as moby words them.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        let mut warn = |ok: bool, msg: &str| {
            if !ok {
                w.push(format!("WARNING: {msg}"));
            }
        };
        warn(self.memory_limit, "No memory limit support");
        warn(self.swap_limit, "No swap limit support");
        warn(self.cpu_cfs, "No cpu cfs quota support");
        warn(self.cpu_shares, "No cpu shares support");
        warn(self.cpuset, "No cpuset support");
        warn(self.pids_limit, "No pids limit support");
        w
    }
}

fn os_release_value(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once('=')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"').to_owned())
    })
}

fn meminfo_total(text: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib * 1024)
}

/// Where containers' cgroups go by default: `berth` under the daemon's own cgroup (the
/// memory controller's on v1), so what berth starts is counted where berth is. On v2 a
/// cgroup with processes cannot delegate controllers, so the daemon first moves itself
/// into a `daemon` leaf beside its containers.
pub fn default_cgroup_parent() -> String {
    let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let path = own
        .lines()
        .find_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
            let wanted = if v2 {
                controllers.is_empty()
            } else {
                controllers.split(',').any(|c| c == "memory")
            };
            wanted.then(|| path.to_owned())
        })
        .unwrap_or_else(|| "/".into());
    let base = path.trim_end_matches('/');
    if v2 && !base.is_empty() {
        let dir = Path::new("/sys/fs/cgroup").join(base.trim_start_matches('/'));
        let leaf = dir.join("daemon");
        if fs::create_dir_all(&leaf).is_ok()
            && fs::write(leaf.join("cgroup.procs"), std::process::id().to_string()).is_ok()
        {
            let controllers =
                fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
            let enable: Vec<String> = controllers
                .split_whitespace()
                .map(|c| format!("+{c}"))
                .collect();
            let _ = fs::write(dir.join("cgroup.subtree_control"), enable.join(" "));
        }
    }
    format!("{base}/berth")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_os_release_and_meminfo() {
        let os = "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n";
        assert_eq!(
            os_release_value(os, "PRETTY_NAME").unwrap(),
            "Debian GNU/Linux 12 (bookworm)"
        );
        assert_eq!(os_release_value(os, "VERSION_ID").unwrap(), "12");
        assert_eq!(os_release_value(os, "MISSING"), None);
        assert_eq!(
            meminfo_total("MemFree: 5 kB\nMemTotal:   2048 kB\n"),
            2 * 1024 * 1024
        );
    }

    #[test]
    fn this_host_reports_plausible_facts() {
        let h = HostInfo::read();
        assert!(h.ncpu >= 1);
        assert!(h.mem_total > 64 * 1024 * 1024);
        assert!(!h.kernel_version.is_empty());
        assert!(matches!(h.cgroup.version, 1 | 2));
        let expected_v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        assert_eq!(h.cgroup.version == 2, expected_v2);
    }

    #[test]
    fn warnings_name_each_missing_feature() {
        let mut c = CgroupFacts {
            version: 1,
            memory_limit: true,
            swap_limit: false,
            cpu_cfs: true,
            cpu_shares: true,
            cpuset: true,
            pids_limit: true,
        };
        assert_eq!(c.warnings(), ["WARNING: No swap limit support"]);
        c.swap_limit = true;
        assert!(c.warnings().is_empty());
    }
}
