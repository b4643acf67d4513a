//! Whether the kernel's OOM killer struck in a container's memory cgroup: the `oom_kill`
//! counter of cgroup v1's `memory.oom_control` or v2's `memory.events`.

use std::fs;
use std::path::{Path, PathBuf};

/// The counter file of one cgroup and its value when the container was created.
#[derive(Debug, Clone)]
pub struct OomCounter {
    file: PathBuf,
    baseline: u64,
}

impl OomCounter {
    /// The counter for the memory cgroup `pid` is in, if one can be found.
    pub fn for_pid(pid: i32) -> Option<Self> {
        let cgroups = fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").ok()?;
        let file = counter_file(&cgroups, &mountinfo)?;
        let baseline = read_count(&file).unwrap_or(0);
        Some(Self { file, baseline })
    }

    /// True if processes were OOM-killed in the cgroup since it was noted.
    pub fn fired(&self) -> bool {
        read_count(&self.file).is_some_and(|n| n > self.baseline)
    }
}

fn read_count(file: &Path) -> Option<u64> {
    parse_oom_kill(&fs::read_to_string(file).ok()?)
}

/// The `oom_kill N` line of either counter file.
pub fn parse_oom_kill(text: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (key, value) = l.split_once(' ')?;
        (key == "oom_kill").then(|| value.trim().parse().ok())?
    })
}

/// A cgroup hierarchy mount: its root within the hierarchy and where it is mounted.
struct Mount<'a> {
    root: &'a str,
    point: &'a str,
}

/// The v1 memory hierarchy's mount (`memory == true`) or the v2 mount.
fn find_mount(mountinfo: &str, memory: bool) -> Option<Mount<'_>> {
    mountinfo.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        let fields: Vec<&str> = left.split(' ').collect();
        let mut tail = right.split(' ');
        let fstype = tail.next()?;
        let superopts = tail.nth(1).unwrap_or("");
        let wanted = if memory {
            fstype == "cgroup" && superopts.split(',').any(|o| o == "memory")
        } else {
            fstype == "cgroup2"
        };
        wanted.then(|| Mount {
            root: fields.get(3).copied().unwrap_or("/"),
            point: fields.get(4).copied().unwrap_or(""),
        })
    })
}

/// The OOM counter file for a process, from its `/proc/PID/cgroup` and the mount table:
/// cgroup v1's memory controller if it is mounted (hybrid hosts too), else v2.
pub fn counter_file(proc_cgroup: &str, mountinfo: &str) -> Option<PathBuf> {
    let mut v1 = None;
    let mut v2 = None;
    for line in proc_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        if controllers.split(',').any(|c| c == "memory") {
            v1 = Some(path);
        } else if controllers.is_empty() {
            v2 = Some(path);
        }
    }
    let (path, mount, name) = match v1 {
        Some(p) => (p, find_mount(mountinfo, true)?, "memory.oom_control"),
        None => (v2?, find_mount(mountinfo, false)?, "memory.events"),
    };
    let rel = path
        .strip_prefix(mount.root)
        .unwrap_or(path)
        .trim_start_matches('/');
    Some(Path::new(mount.point).join(rel).join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const UNIFIED: &str = "\
30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate
";

    #[test]
    fn v1_memory_controller_wins_on_hybrid_hosts() {
        let cg = "9:name=systemd:/\n4:memory:/berth/c1\n0::/berth/c1\n";
        assert_eq!(
            counter_file(cg, HYBRID),
            Some(PathBuf::from(
                "/sys/fs/cgroup/memory/berth/c1/memory.oom_control"
            ))
        );
    }

    #[test]
    fn v2_uses_memory_events() {
        assert_eq!(
            counter_file("0::/berth/c1\n", UNIFIED),
            Some(PathBuf::from("/sys/fs/cgroup/berth/c1/memory.events"))
        );
    }

    #[test]
    fn mount_roots_are_stripped() {
        let mi = "30 23 0:26 /outer /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
        assert_eq!(
            counter_file("0::/outer/c1\n", mi),
            Some(PathBuf::from("/sys/fs/cgroup/c1/memory.events"))
        );
    }

    #[test]
    fn oom_kill_count_is_parsed_from_both_formats() {
        assert_eq!(
            parse_oom_kill("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n"),
            Some(2)
        );
        assert_eq!(
            parse_oom_kill("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n"),
            Some(1)
        );
        assert_eq!(parse_oom_kill("oom_kill_disable 0\n"), None);
    }
}
