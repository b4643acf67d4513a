//! cgroup v2: the unified hierarchy, read as containerd's `cgroup2` manager does
//! (missing files read as zero, `max` as `u64::MAX`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use super::files::{read_optional, read_table, read_u64_or_zero};
use super::{
    BlkioEntry, BlkioStats, CgroupStats, CpuStats, MemoryStats, PidsStats, StatsError, Throttling,
};

/// The `memory.stat` keys moby's `statsV2` passes through.
const MEMORY_STAT_KEYS: &[&str] = &[
    "anon",
    "file",
    "kernel_stack",
    "slab",
    "sock",
    "shmem",
    "file_mapped",
    "file_dirty",
    "file_writeback",
    "anon_thp",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "slab_reclaimable",
    "slab_unreclaimable",
    "pgfault",
    "pgmajfault",
    "workingset_refault",
    "workingset_activate",
    "workingset_nodereclaim",
    "pgrefill",
    "pgscan",
    "pgsteal",
    "pgactivate",
    "pgdeactivate",
    "pglazyfree",
    "pglazyfreed",
    "thp_fault_alloc",
    "thp_collapse_alloc",
];

pub(super) fn read(dir: &Path) -> Result<CgroupStats, StatsError> {
    if !dir.is_dir() {
        return Err(StatsError::NotFound(dir.display().to_string()));
    }
    let usec = |table: &std::collections::HashMap<String, u64>, key: &str| {
        table.get(key).copied().unwrap_or(0) * 1000
    };
    let cpu_stat = read_table(&dir.join("cpu.stat"))?.unwrap_or_default();
    let cpu = CpuStats {
        total_usage: usec(&cpu_stat, "usage_usec"),
        percpu_usage: Vec::new(),
        usage_in_kernelmode: usec(&cpu_stat, "system_usec"),
        usage_in_usermode: usec(&cpu_stat, "user_usec"),
        throttling: Throttling {
            periods: cpu_stat.get("nr_periods").copied().unwrap_or(0),
            throttled_periods: cpu_stat.get("nr_throttled").copied().unwrap_or(0),
            throttled_time: usec(&cpu_stat, "throttled_usec"),
        },
    };

    let memory_stat = read_table(&dir.join("memory.stat"))?.unwrap_or_default();
    let events = read_table(&dir.join("memory.events"))?.unwrap_or_default();
    let memory = MemoryStats {
        usage: read_u64_or_zero(&dir.join("memory.current"), u64::MAX),
        max_usage: 0,
        limit: read_u64_or_zero(&dir.join("memory.max"), u64::MAX),
        failcnt: events.get("oom").copied().unwrap_or(0),
        stats: MEMORY_STAT_KEYS
            .iter()
            .map(|k| (k.to_string(), memory_stat.get(*k).copied().unwrap_or(0)))
            .collect::<BTreeMap<_, _>>(),
    };

    let pids = PidsStats {
        current: read_u64_or_zero(&dir.join("pids.current"), u64::MAX),
        limit: read_u64_or_zero(&dir.join("pids.max"), u64::MAX),
    };

    let io = read_optional(&dir.join("io.stat"))?.unwrap_or_default();
    let entries = parse_io_stat(&io);
    let blkio = BlkioStats {
        io_service_bytes_recursive: (!entries.is_empty()).then_some(entries),
        ..BlkioStats::default()
    };

    Ok(CgroupStats {
        read: SystemTime::now(),
        cpu: Some(cpu),
        memory: Some(memory),
        pids: Some(pids),
        blkio: Some(blkio),
        system_cpu_usage: 0,
        online_cpus: 0,
        machine_memory: 0,
    })
}

/// `io.stat` lines (`8:0 rbytes=1 wbytes=2 rios=3 …`) as moby reports them: a `read` and
/// a `write` byte count per device.
pub(super) fn parse_io_stat(text: &str) -> Vec<BlkioEntry> {
    let mut entries = Vec::new();
    for line in text.lines() {
        let mut fields = line.split(' ');
        let Some((major, minor)) = fields.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse::<u64>(), minor.parse::<u64>()) else {
            continue;
        };
        let (mut read, mut write) = (0, 0);
        for field in fields {
            match field.split_once('=') {
                Some(("rbytes", v)) => read = v.parse().unwrap_or(0),
                Some(("wbytes", v)) => write = v.parse().unwrap_or(0),
                _ => {}
            }
        }
        for (op, value) in [("read", read), ("write", write)] {
            entries.push(BlkioEntry {
                major,
                minor,
                op: op.to_string(),
                value,
            });
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_stat_gives_read_and_write_bytes_per_device() {
        let text =
            "254:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n8:16 rbytes=1 wbytes=0\n";
        let entries = parse_io_stat(text);
        let flat: Vec<(u64, u64, &str, u64)> = entries
            .iter()
            .map(|e| (e.major, e.minor, e.op.as_str(), e.value))
            .collect();
        assert_eq!(
            flat,
            vec![
                (254, 0, "read", 4096),
                (254, 0, "write", 8192),
                (8, 16, "read", 1),
                (8, 16, "write", 0)
            ]
        );
    }

    #[test]
    fn reads_a_fake_v2_cgroup_like_containerd() {
        let dir = tempfile_dir();
        let w = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
        w("cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 1\nthrottled_usec 7\n");
        w("memory.current", "1048576\n");
        w("memory.max", "max\n");
        w(
            "memory.stat",
            "anon 4096\ninactive_file 8192\nworkingset_refault_anon 3\n",
        );
        w("memory.events", "low 0\nhigh 0\nmax 2\noom 1\noom_kill 1\n");
        w("pids.current", "2\n");
        w("pids.max", "max\n");
        let stats = read(&dir).unwrap();
        let cpu = stats.cpu.unwrap();
        assert_eq!(
            (
                cpu.total_usage,
                cpu.usage_in_usermode,
                cpu.usage_in_kernelmode
            ),
            (1_500_000, 1_000_000, 500_000)
        );
        assert_eq!(
            cpu.throttling,
            Throttling {
                periods: 3,
                throttled_periods: 1,
                throttled_time: 7000
            }
        );
        let mem = stats.memory.unwrap();
        assert_eq!(
            (mem.usage, mem.limit, mem.failcnt),
            (1_048_576, u64::MAX, 1)
        );
        assert_eq!(mem.stats["inactive_file"], 8192);
        assert_eq!(mem.stats["slab"], 0);
        assert!(!mem.stats.contains_key("workingset_refault_anon"));
        assert_eq!(
            stats.pids,
            Some(PidsStats {
                current: 2,
                limit: u64::MAX
            })
        );
        assert_eq!(stats.blkio.unwrap().io_service_bytes_recursive, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("berth-stats-v2-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
