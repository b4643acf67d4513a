//! Resource limits for containers, never above the daemon's own hard limits: a process
//! without CAP_SYS_RESOURCE cannot raise a hard limit, and a runtime that tries (as
//! containerd's default of 1048576 open files does) fails to start the container.

use nix::sys::resource::{getrlimit, Resource};

/// The daemon's own (soft, hard) limit for `resource`.
pub fn own_limit(resource: Resource) -> (u64, u64) {
    getrlimit(resource).unwrap_or((u64::MAX, u64::MAX))
}

/// Clamps a requested (soft, hard) pair to `ceiling_hard`, keeping soft ≤ hard.
pub fn clamp(soft: u64, hard: u64, ceiling_hard: u64) -> (u64, u64) {
    let hard = hard.min(ceiling_hard);
    (soft.min(hard), hard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_to_the_ceiling_and_keeps_soft_below_hard() {
        assert_eq!(clamp(1_048_576, 1_048_576, 20_000), (20_000, 20_000));
        assert_eq!(clamp(1024, 4096, 20_000), (1024, 4096));
        assert_eq!(clamp(30_000, 10_000, 20_000), (10_000, 10_000));
    }

    #[test]
    fn own_limit_is_what_the_kernel_reports_for_this_process() {
        let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap();
        let fields: Vec<u64> = line
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        assert_eq!(own_limit(Resource::RLIMIT_NOFILE), (fields[0], fields[1]));
    }
}
