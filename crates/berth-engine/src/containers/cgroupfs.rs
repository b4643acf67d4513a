//! The few cgroup files the engine writes itself: the freezer for pause, and live
//! resource updates. v1 (one hierarchy per controller) and v2 (unified) alike.

use std::path::PathBuf;

use berth_api::models::HostConfig;

const ROOT: &str = "/sys/fs/cgroup";

pub fn is_v2() -> bool {
    std::path::Path::new(ROOT)
        .join("cgroup.controllers")
        .exists()
}

/// The directory of `cgroups_path` for `controller` (ignored on v2).
pub fn dir(controller: &str, cgroups_path: &str) -> PathBuf {
    let rel = cgroups_path.trim_start_matches('/');
    if is_v2() {
        PathBuf::from(ROOT).join(rel)
    } else {
        PathBuf::from(ROOT).join(controller).join(rel)
    }
}

fn write(controller: &str, cgroups_path: &str, file: &str, value: &str) -> std::io::Result<()> {
    let path = dir(controller, cgroups_path).join(file);
    std::fs::write(&path, value)
        .map_err(|e| std::io::Error::new(e.kind(), format!("write {}: {e}", path.display())))
}

/// Freezes (`true`) or thaws the cgroup and waits until the kernel says it is done.
pub fn freeze(cgroups_path: &str, frozen: bool) -> std::io::Result<()> {
    if is_v2() {
        write(
            "",
            cgroups_path,
            "cgroup.freeze",
            if frozen { "1" } else { "0" },
        )?;
        let events = dir("", cgroups_path).join("cgroup.events");
        for _ in 0..1000 {
            let text = std::fs::read_to_string(&events)?;
            let want = if frozen { "frozen 1" } else { "frozen 0" };
            if text.lines().any(|l| l == want) {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        return Err(std::io::Error::other("timed out waiting for the freezer"));
    }
    let want = if frozen { "FROZEN" } else { "THAWED" };
    for _ in 0..1000 {
        write("freezer", cgroups_path, "freezer.state", want)?;
        let state = std::fs::read_to_string(dir("freezer", cgroups_path).join("freezer.state"))?;
        if state.trim() == want {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    Err(std::io::Error::other("timed out waiting for the freezer"))
}

/// Applies the resource fields of `hc` to a live cgroup (`docker update`).
pub fn apply_resources(cgroups_path: &str, hc: &HostConfig) -> std::io::Result<()> {
    let v2 = is_v2();
    if let Some(mem) = hc.memory.filter(|m| *m > 0) {
        if v2 {
            write("", cgroups_path, "memory.max", &mem.to_string())?;
            if let Some(swap) = swap_max_v2(mem, hc.memory_swap) {
                write("", cgroups_path, "memory.swap.max", &swap)?;
            }
        } else {
            // memsw must stay ≥ memory: raise it first when growing.
            let swap = hc.memory_swap.filter(|s| *s != 0);
            let memsw = dir("memory", cgroups_path).join("memory.memsw.limit_in_bytes");
            if memsw.exists() {
                let target = match swap {
                    Some(-1) => "-1".to_owned(),
                    Some(s) => s.to_string(),
                    None => (mem * 2).to_string(),
                };
                let _ = std::fs::write(&memsw, &target);
                write(
                    "memory",
                    cgroups_path,
                    "memory.limit_in_bytes",
                    &mem.to_string(),
                )?;
                std::fs::write(&memsw, &target)?;
            } else {
                write(
                    "memory",
                    cgroups_path,
                    "memory.limit_in_bytes",
                    &mem.to_string(),
                )?;
            }
        }
    }
    if let Some(r) = hc.memory_reservation.filter(|m| *m > 0) {
        if v2 {
            write("", cgroups_path, "memory.low", &r.to_string())?;
        } else {
            write(
                "memory",
                cgroups_path,
                "memory.soft_limit_in_bytes",
                &r.to_string(),
            )?;
        }
    }
    let (quota, period) = match hc.nano_cpus.filter(|n| *n > 0) {
        Some(n) => (Some(n / 10_000), Some(100_000)),
        None => (
            hc.cpu_quota.filter(|q| *q != 0),
            hc.cpu_period.filter(|p| *p > 0),
        ),
    };
    if quota.is_some() || period.is_some() {
        if v2 {
            let q = quota.map_or("max".to_owned(), |q| q.to_string());
            write(
                "",
                cgroups_path,
                "cpu.max",
                &format!("{q} {}", period.unwrap_or(100_000)),
            )?;
        } else {
            if let Some(p) = period {
                write("cpu", cgroups_path, "cpu.cfs_period_us", &p.to_string())?;
            }
            if let Some(q) = quota {
                write("cpu", cgroups_path, "cpu.cfs_quota_us", &q.to_string())?;
            }
        }
    }
    if let Some(shares) = hc.cpu_shares.filter(|s| *s > 0) {
        if v2 {
            let weight = cpu_weight(shares as u64);
            write("", cgroups_path, "cpu.weight", &weight.to_string())?;
        } else {
            write("cpu", cgroups_path, "cpu.shares", &shares.to_string())?;
        }
    }
    if let Some(cpus) = hc.cpuset_cpus.as_deref().filter(|c| !c.is_empty()) {
        write("cpuset", cgroups_path, "cpuset.cpus", cpus)?;
    }
    if let Some(p) = hc.pids_limit.filter(|p| *p != 0) {
        let v = if p < 0 {
            "max".to_owned()
        } else {
            p.to_string()
        };
        write("pids", cgroups_path, "pids.max", &v)?;
    }
    Ok(())
}

/// v2's `memory.swap.max` (swap alone) for Docker's MemorySwap (memory plus swap, -1 for
/// unlimited); `None` when MemorySwap is unset.
fn swap_max_v2(memory: i64, memory_swap: Option<i64>) -> Option<String> {
    match memory_swap? {
        -1 => Some("max".to_owned()),
        s if s >= memory => Some((s - memory).to_string()),
        _ => None,
    }
}

/// v1 `cpu.shares` (2..262144) as v2 `cpu.weight` (1..10000), with the conversion youki
/// (and runc) apply at start, so a live update writes what a start would have: 1024 is 100.
fn cpu_weight(shares: u64) -> u64 {
    if shares <= 2 {
        return 1;
    }
    if shares >= 262_144 {
        return 10_000;
    }
    let log = (shares as f64).log2();
    let exponent = (log * log + 125.0 * log) / 612.0 - 7.0 / 34.0;
    10f64.powf(exponent).ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_shares_convert_to_the_weight_a_start_writes() {
        assert_eq!(cpu_weight(2), 1);
        assert_eq!(cpu_weight(512), 59);
        assert_eq!(cpu_weight(1024), 100);
        assert_eq!(cpu_weight(262_144), 10_000);
    }

    #[test]
    fn v2_swap_is_memory_swap_minus_memory() {
        assert_eq!(
            swap_max_v2(16 << 20, Some(48 << 20)),
            Some((32 << 20).to_string())
        );
        assert_eq!(swap_max_v2(16 << 20, Some(16 << 20)), Some("0".to_owned()));
        assert_eq!(swap_max_v2(16 << 20, Some(-1)), Some("max".to_owned()));
        assert_eq!(swap_max_v2(16 << 20, None), None);
        assert_eq!(swap_max_v2(16 << 20, Some(0)), None);
    }
}
