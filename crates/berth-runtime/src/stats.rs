//! A container's resource usage read from its cgroup (v1 or v2), the way containerd's
//! cgroups library reads it for Docker, and the JSON `GET /containers/{id}/stats` returns
//! ([`to_docker`]).
//!
//! `cgroups_path` is the OCI `cgroupsPath` the container was created with: a path below
//! each v1 controller's mount (`/sys/fs/cgroup/<controller>/…`) or below the v2 mount.

mod docker;
mod files;
mod host;
mod v1;
mod v2;

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub use docker::{docker_empty, to_docker};

const CGROUP_ROOT: &str = "/sys/fs/cgroup";

#[derive(Debug, thiserror::Error)]
pub enum StatsError {
    /// The cgroup is gone (the container is not running).
    #[error("cgroup {0} not found")]
    NotFound(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}: unexpected content {text:?}")]
    Parse { path: PathBuf, text: String },
}

/// Where the cgroup hierarchies are mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupLayout {
    /// One hierarchy per controller: `<root>/<controller>/<cgroups_path>`.
    V1 { root: PathBuf },
    /// The unified hierarchy: `<root>/<cgroups_path>`.
    V2 { root: PathBuf },
}

impl CgroupLayout {
    /// The host's layout: v2 when `/sys/fs/cgroup` is the unified hierarchy, else v1
    /// (hybrid hosts count as v1, their controllers live in the v1 hierarchies).
    pub fn detect() -> Self {
        let root = PathBuf::from(CGROUP_ROOT);
        if root.join("cgroup.controllers").exists() {
            CgroupLayout::V2 { root }
        } else {
            CgroupLayout::V1 { root }
        }
    }

    /// Reads the usage of the cgroup at `cgroups_path`, with the host CPU time and
    /// memory size that Docker's numbers are relative to.
    pub fn read(&self, cgroups_path: &str) -> Result<CgroupStats, StatsError> {
        let rel = relative(cgroups_path);
        let mut stats = match self {
            CgroupLayout::V1 { root } => v1::read(root, rel)?,
            CgroupLayout::V2 { root } => v2::read(&root.join(rel))?,
        };
        let (system, cpus) = host::system_cpu_usage()?;
        stats.system_cpu_usage = system;
        stats.online_cpus = cpus;
        stats.machine_memory = host::machine_memory()?;
        Ok(stats)
    }

    /// The PIDs of every process in the cgroup and its descendants, sorted.
    pub fn pids(&self, cgroups_path: &str) -> Result<Vec<i32>, StatsError> {
        let rel = relative(cgroups_path);
        let dir = match self {
            CgroupLayout::V1 { root } => v1::PROCS_CONTROLLERS
                .iter()
                .map(|c| root.join(c).join(rel))
                .find(|d| d.is_dir())
                .ok_or_else(|| StatsError::NotFound(cgroups_path.to_string()))?,
            CgroupLayout::V2 { root } => root.join(rel),
        };
        if !dir.is_dir() {
            return Err(StatsError::NotFound(cgroups_path.to_string()));
        }
        let mut pids = Vec::new();
        files::collect_procs(&dir, &mut pids)?;
        pids.sort_unstable();
        pids.dedup();
        Ok(pids)
    }
}

fn relative(cgroups_path: &str) -> &Path {
    Path::new(cgroups_path.trim_start_matches('/'))
}

/// [`CgroupLayout::read`] on the host's layout.
pub fn read(cgroups_path: &str) -> Result<CgroupStats, StatsError> {
    CgroupLayout::detect().read(cgroups_path)
}

/// [`CgroupLayout::pids`] on the host's layout.
pub fn pids(cgroups_path: &str) -> Result<Vec<i32>, StatsError> {
    CgroupLayout::detect().pids(cgroups_path)
}

/// One sample of a cgroup's usage. Times are in nanoseconds, sizes in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupStats {
    /// When the sample was taken.
    pub read: SystemTime,
    pub cpu: Option<CpuStats>,
    pub memory: Option<MemoryStats>,
    pub pids: Option<PidsStats>,
    pub blkio: Option<BlkioStats>,
    /// The host's busy + idle CPU time from `/proc/stat`, as Docker computes it.
    pub system_cpu_usage: u64,
    /// CPUs listed in `/proc/stat`.
    pub online_cpus: u32,
    /// `MemTotal` of the host: the limit Docker shows for unlimited containers.
    pub machine_memory: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuStats {
    pub total_usage: u64,
    /// Per CPU (v1 only).
    pub percpu_usage: Vec<u64>,
    pub usage_in_kernelmode: u64,
    pub usage_in_usermode: u64,
    pub throttling: Throttling,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Throttling {
    pub periods: u64,
    pub throttled_periods: u64,
    pub throttled_time: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStats {
    pub usage: u64,
    /// Peak usage (v1 only; Docker does not report it on v2).
    pub max_usage: u64,
    /// The cgroup's limit as the kernel reports it (huge when unlimited).
    pub limit: u64,
    pub failcnt: u64,
    /// The `memory.stat` keys Docker passes through (v1: `cache`, `total_inactive_file`,
    /// …; v2: `anon`, `inactive_file`, …), sorted.
    pub stats: std::collections::BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PidsStats {
    pub current: u64,
    /// 0 when unlimited on v1, `u64::MAX` on v2 (as containerd reports them).
    pub limit: u64,
}

/// Block I/O per device and operation; `None` lists are `null` in Docker's JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlkioStats {
    pub io_service_bytes_recursive: Option<Vec<BlkioEntry>>,
    pub io_serviced_recursive: Option<Vec<BlkioEntry>>,
    pub io_queue_recursive: Option<Vec<BlkioEntry>>,
    pub io_service_time_recursive: Option<Vec<BlkioEntry>>,
    pub io_wait_time_recursive: Option<Vec<BlkioEntry>>,
    pub io_merged_recursive: Option<Vec<BlkioEntry>>,
    pub io_time_recursive: Option<Vec<BlkioEntry>>,
    pub sectors_recursive: Option<Vec<BlkioEntry>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlkioEntry {
    pub major: u64,
    pub minor: u64,
    /// As the kernel names it: `Read`, `Write`, … on v1; `read`/`write` on v2.
    pub op: String,
    pub value: u64,
}
