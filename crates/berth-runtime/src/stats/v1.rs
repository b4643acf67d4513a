//! cgroup v1: one hierarchy per controller, read as containerd's `cgroup1` package does.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use super::files::{read_optional, read_table, read_u64};
use super::{
    BlkioEntry, BlkioStats, CgroupStats, CpuStats, MemoryStats, PidsStats, StatsError, Throttling,
};

/// Controllers whose `cgroup.procs` lists the container's processes, in preference order.
pub(super) const PROCS_CONTROLLERS: &[&str] = &["pids", "memory", "cpuacct", "cpu", "freezer"];

/// The `memory.stat` keys moby's `statsV1` passes through.
const MEMORY_STAT_KEYS: &[&str] = &[
    "cache",
    "rss",
    "rss_huge",
    "mapped_file",
    "dirty",
    "writeback",
    "pgpgin",
    "pgpgout",
    "pgfault",
    "pgmajfault",
    "inactive_anon",
    "active_anon",
    "inactive_file",
    "active_file",
    "unevictable",
    "hierarchical_memory_limit",
    "hierarchical_memsw_limit",
    "total_cache",
    "total_rss",
    "total_rss_huge",
    "total_mapped_file",
    "total_dirty",
    "total_writeback",
    "total_pgpgin",
    "total_pgpgout",
    "total_pgfault",
    "total_pgmajfault",
    "total_inactive_anon",
    "total_active_anon",
    "total_inactive_file",
    "total_active_file",
    "total_unevictable",
];

pub(super) fn read(root: &Path, rel: &Path) -> Result<CgroupStats, StatsError> {
    let dir = |controller: &str| {
        let d = root.join(controller).join(rel);
        d.is_dir().then_some(d)
    };
    let (cpuacct, cpu, memory, pids, blkio) = (
        dir("cpuacct"),
        dir("cpu"),
        dir("memory"),
        dir("pids"),
        dir("blkio"),
    );
    if [&cpuacct, &cpu, &memory, &pids, &blkio]
        .iter()
        .all(|d| d.is_none())
    {
        return Err(StatsError::NotFound(rel.display().to_string()));
    }
    Ok(CgroupStats {
        read: SystemTime::now(),
        cpu: cpuacct.map(|d| read_cpu(&d, cpu.as_deref())).transpose()?,
        memory: memory.map(|d| read_memory(&d)).transpose()?,
        pids: pids.map(|d| read_pids(&d)).transpose()?,
        blkio: blkio.map(|d| read_blkio(&d)).transpose()?,
        system_cpu_usage: 0,
        online_cpus: 0,
        machine_memory: 0,
    })
}

fn clock_ticks() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|t| u64::try_from(t).ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

fn read_cpu(cpuacct: &Path, cpu: Option<&Path>) -> Result<CpuStats, StatsError> {
    let total = read_u64(&cpuacct.join("cpuacct.usage"), 0)?;
    let percpu_path = cpuacct.join("cpuacct.usage_percpu");
    let percpu = super::files::read_required(&percpu_path)?
        .split_whitespace()
        .map(|v| super::files::parse_u64(&percpu_path, v))
        .collect::<Result<Vec<_>, _>>()?;
    let stat_path = cpuacct.join("cpuacct.stat");
    let stat = read_table(&stat_path)?.unwrap_or_default();
    let ticks = |key: &str| -> Result<u64, StatsError> {
        let v = stat.get(key).copied().ok_or_else(|| StatsError::Parse {
            path: stat_path.clone(),
            text: format!("no {key}"),
        })?;
        Ok(v * 1_000_000_000 / clock_ticks())
    };
    let throttling = match cpu {
        Some(cpu) => {
            let t = read_table(&cpu.join("cpu.stat"))?.unwrap_or_default();
            Throttling {
                periods: t.get("nr_periods").copied().unwrap_or(0),
                throttled_periods: t.get("nr_throttled").copied().unwrap_or(0),
                throttled_time: t.get("throttled_time").copied().unwrap_or(0),
            }
        }
        None => Throttling::default(),
    };
    Ok(CpuStats {
        total_usage: total,
        percpu_usage: percpu,
        usage_in_kernelmode: ticks("system")?,
        usage_in_usermode: ticks("user")?,
        throttling,
    })
}

fn read_memory(dir: &Path) -> Result<MemoryStats, StatsError> {
    let table = read_table(&dir.join("memory.stat"))?.unwrap_or_default();
    let stats: BTreeMap<String, u64> = MEMORY_STAT_KEYS
        .iter()
        .map(|k| (k.to_string(), table.get(*k).copied().unwrap_or(0)))
        .collect();
    Ok(MemoryStats {
        usage: read_u64(&dir.join("memory.usage_in_bytes"), 0)?,
        max_usage: read_u64(&dir.join("memory.max_usage_in_bytes"), 0)?,
        limit: read_u64(&dir.join("memory.limit_in_bytes"), 0)?,
        failcnt: read_u64(&dir.join("memory.failcnt"), 0)?,
        stats,
    })
}

fn read_pids(dir: &Path) -> Result<PidsStats, StatsError> {
    Ok(PidsStats {
        current: read_u64(&dir.join("pids.current"), 0)?,
        // containerd reads v1's "max" as 0.
        limit: read_u64(&dir.join("pids.max"), 0)?,
    })
}

/// The CFQ scheduler's recursive files when the kernel has them and they hold data,
/// else the throttle files, as containerd's `blkioController.Stat`.
fn read_blkio(dir: &Path) -> Result<BlkioStats, StatsError> {
    let mut stats = BlkioStats {
        io_service_bytes_recursive: Some(Vec::new()),
        io_serviced_recursive: Some(Vec::new()),
        io_queue_recursive: Some(Vec::new()),
        io_service_time_recursive: Some(Vec::new()),
        io_wait_time_recursive: Some(Vec::new()),
        io_merged_recursive: Some(Vec::new()),
        io_time_recursive: Some(Vec::new()),
        sectors_recursive: Some(Vec::new()),
    };
    if dir.join("blkio.io_serviced_recursive").exists() {
        let mut any = false;
        for (file, list) in [
            ("blkio.sectors_recursive", &mut stats.sectors_recursive),
            (
                "blkio.io_service_bytes_recursive",
                &mut stats.io_service_bytes_recursive,
            ),
            (
                "blkio.io_serviced_recursive",
                &mut stats.io_serviced_recursive,
            ),
            ("blkio.io_queued_recursive", &mut stats.io_queue_recursive),
            (
                "blkio.io_service_time_recursive",
                &mut stats.io_service_time_recursive,
            ),
            (
                "blkio.io_wait_time_recursive",
                &mut stats.io_wait_time_recursive,
            ),
            ("blkio.io_merged_recursive", &mut stats.io_merged_recursive),
            ("blkio.time_recursive", &mut stats.io_time_recursive),
        ] {
            let entries = read_blkio_file(&dir.join(file))?;
            any |= !entries.is_empty();
            *list = Some(entries);
        }
        if any {
            return Ok(stats);
        }
    }
    stats.io_serviced_recursive = Some(read_blkio_file(&dir.join("blkio.throttle.io_serviced"))?);
    stats.io_service_bytes_recursive = Some(read_blkio_file(
        &dir.join("blkio.throttle.io_service_bytes"),
    )?);
    Ok(stats)
}

/// `major:minor [Op] value` lines; the `Total` line is skipped.
fn read_blkio_file(path: &Path) -> Result<Vec<BlkioEntry>, StatsError> {
    let Some(text) = read_optional(path)? else {
        return Ok(Vec::new());
    };
    parse_blkio(path, &text)
}

pub(super) fn parse_blkio(path: &Path, text: &str) -> Result<Vec<BlkioEntry>, StatsError> {
    let bad = |line: &str| StatsError::Parse {
        path: path.to_path_buf(),
        text: line.to_string(),
    };
    let mut entries = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split([' ', ':']).filter(|f| !f.is_empty()).collect();
        if fields.len() < 3 {
            if fields.len() == 2 && fields[0] == "Total" {
                continue;
            }
            return Err(bad(line));
        }
        let num = |s: &str| s.parse::<u64>().map_err(|_| bad(line));
        let (op, value) = if fields.len() >= 4 {
            (fields[2], fields[3])
        } else {
            ("", fields[2])
        };
        entries.push(BlkioEntry {
            major: num(fields[0])?,
            minor: num(fields[1])?,
            op: op.to_string(),
            value: num(value)?,
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blkio_lines_and_skips_total() {
        let text = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total 12288\nTotal 12288\n";
        let entries = parse_blkio(Path::new("f"), text).unwrap();
        assert_eq!(entries.len(), 5);
        assert_eq!(
            entries[1],
            BlkioEntry {
                major: 8,
                minor: 0,
                op: "Write".into(),
                value: 8192
            }
        );
        let sectors = parse_blkio(Path::new("f"), "254:0 17\n").unwrap();
        assert_eq!(sectors[0].op, "");
        assert_eq!(sectors[0].value, 17);
        assert!(parse_blkio(Path::new("f"), "garbage\n").is_err());
    }
}
