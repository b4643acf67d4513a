//! The host figures Docker relates container usage to.

use std::path::Path;
use std::sync::OnceLock;

use super::files::read_required;
use super::StatsError;

/// moby hard-codes USER_HZ as 100 for `/proc/stat`.
const PROC_STAT_TICKS_PER_SECOND: u64 = 100;
const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Host CPU time in nanoseconds (the first seven `cpu` fields of `/proc/stat`: user,
/// nice, system, idle, iowait, irq, softirq) and the number of `cpuN` lines, as moby's
/// `getSystemCPUUsage`.
pub fn system_cpu_usage() -> Result<(u64, u32), StatsError> {
    let path = Path::new("/proc/stat");
    parse_proc_stat(path, &read_required(path)?)
}

pub(super) fn parse_proc_stat(path: &Path, text: &str) -> Result<(u64, u32), StatsError> {
    let bad = |line: &str| StatsError::Parse {
        path: path.to_path_buf(),
        text: line.to_string(),
    };
    let mut usage = 0;
    let mut cpus = 0;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("cpu") else {
            break;
        };
        if rest.starts_with(' ') {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return Err(bad(line));
            }
            let mut ticks = 0u64;
            for f in &fields[1..8] {
                ticks += f.parse::<u64>().map_err(|_| bad(line))?;
            }
            usage = ticks * NANOS_PER_SECOND / PROC_STAT_TICKS_PER_SECOND;
        } else if rest.starts_with(|c: char| c.is_ascii_digit()) {
            cpus += 1;
        }
    }
    Ok((usage, cpus))
}

/// `MemTotal` in bytes (read once; it does not change).
pub fn machine_memory() -> Result<u64, StatsError> {
    static TOTAL: OnceLock<u64> = OnceLock::new();
    if let Some(total) = TOTAL.get() {
        return Ok(*total);
    }
    let path = Path::new("/proc/meminfo");
    let text = read_required(path)?;
    let total = text
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
        .ok_or_else(|| StatsError::Parse {
            path: path.to_path_buf(),
            text: "no MemTotal".into(),
        })?;
    Ok(*TOTAL.get_or_init(|| total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_seven_cpu_fields_and_counts_cpus() {
        let text = "cpu  10 1 20 300 4 5 6 7 0 0\ncpu0 5 0 10 150 2 2 3 3 0 0\ncpu1 5 1 10 150 2 3 3 4 0 0\nintr 1 2 3\n";
        let (usage, cpus) = parse_proc_stat(Path::new("stat"), text).unwrap();
        assert_eq!(usage, (10 + 1 + 20 + 300 + 4 + 5 + 6) * 10_000_000);
        assert_eq!(cpus, 2);
        assert!(parse_proc_stat(Path::new("stat"), "cpu  1 2 3\n").is_err());
    }

    #[test]
    fn host_memory_is_known() {
        assert!(machine_memory().unwrap() > 64 * 1024 * 1024);
        let (usage, cpus) = system_cpu_usage().unwrap();
        assert!(usage > 0 && cpus > 0);
    }
}
