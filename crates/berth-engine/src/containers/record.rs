//! A container's persistent record: what `create` decided and the state the lifecycle
//! moved it to. Stored as `<data-root>/containers/<id>/config.v2.json`, rewritten
//! atomically on every change.

use std::path::{Path, PathBuf};

use berth_api::models::{ContainerConfig, HostConfig};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::fsutil::atomic_write;

/// How hard a record write is: `Durable` survives a machine crash (fsync); `Replaceable`
/// (atomic rename, no fsync) survives a daemon crash, enough for a state about to be
/// superseded, e.g. the record of a container about to be deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Durable,
    Replaceable,
}

/// The record file's name inside the container's data directory.
pub const RECORD_FILE: &str = "config.v2.json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Removing => "removing",
            Self::Exited => "exited",
            Self::Dead => "dead",
        }
    }

    /// A process exists (running, paused, or between restarts with a live shim).
    pub fn is_running(self) -> bool {
        matches!(self, Self::Running | Self::Paused)
    }
}

/// One health check's result, as `State.Health.Log` shows it.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct HealthLogEntry {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct HealthState {
    /// starting, healthy, unhealthy
    pub status: String,
    pub failing_streak: i64,
    pub log: Vec<HealthLogEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct State {
    pub status: Status,
    pub pid: i64,
    pub exit_code: i64,
    pub error: String,
    pub oom_killed: bool,
    pub started_at: String,
    pub finished_at: String,
    pub health: Option<HealthState>,
}

impl State {
    pub fn running(&self) -> bool {
        self.status.is_running()
    }
}

/// Everything the daemon keeps about one container across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    /// Without the leading slash.
    pub name: String,
    pub created: String,
    /// The image ID (`sha256:…`).
    pub image: String,
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    pub path: String,
    pub args: Vec<String>,
    pub state: State,
    pub restart_count: i64,
    /// Set by an explicit stop or kill; restart policies leave such a container alone.
    pub manually_stopped: bool,
    pub driver: String,
    pub log_path: String,
    /// The runtime's view of the resources, as last applied (`update` changes it).
    #[serde(default)]
    pub cgroups_path: String,
    /// Networks asked for and, while running, the endpoints made on them.
    #[serde(default)]
    pub network: NetworkState,
    /// Binds, volumes and tmpfs mounts, resolved at create (inspect's `Mounts`), in
    /// mount order (parents before children).
    #[serde(default)]
    pub mount_points: Vec<MountPoint>,
}

/// What a mount is made of: moby's `mount.Type` values.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    #[default]
    Bind,
    Volume,
    Tmpfs,
}

impl MountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bind => "bind",
            Self::Volume => "volume",
            Self::Tmpfs => "tmpfs",
        }
    }
}

/// One mount of a container, as create resolved it from `Binds`, `Mounts`, `Tmpfs`,
/// `VolumesFrom` and the image's `Volumes`.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct MountPoint {
    pub kind: MountKind,
    /// The volume's name (volume mounts only).
    #[serde(default)]
    pub name: String,
    /// The host path bound: a bind's host path, a volume's `_data` directory; empty for tmpfs.
    #[serde(default)]
    pub source: String,
    /// Absolute, cleaned path inside the container.
    pub destination: String,
    /// The volume driver (`local`); empty for binds and tmpfs.
    #[serde(default)]
    pub driver: String,
    /// The mode string as given (`ro,z`, `rshared`, …), as inspect shows it.
    #[serde(default)]
    pub mode: String,
    pub rw: bool,
    /// `rprivate` by default for binds; empty for volumes and tmpfs, as Docker shows.
    #[serde(default)]
    pub propagation: String,
    /// `--mount bind-nonrecursive`: a plain (not recursive) bind.
    #[serde(default)]
    pub non_recursive: bool,
    /// Copy the image's content at the destination into a new, empty volume (not nocopy).
    #[serde(default)]
    pub copy_data: bool,
    /// Made for this container (`-v /path`, an image VOLUME): `rm -v` removes it.
    #[serde(default)]
    pub anonymous: bool,
    /// tmpfs mount options (`size=…`, `mode=…`), already in mount(8) form.
    #[serde(default)]
    pub tmpfs_options: Vec<String>,
    /// `--mount volume-subpath`: a relative path inside the volume to mount instead.
    #[serde(default)]
    pub subpath: String,
}

/// A container's networking: what create and connect asked for, and what start made.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct NetworkState {
    /// The network namespace file while running (`SandboxKey`); empty when stopped.
    #[serde(default)]
    pub sandbox_key: String,
    /// Endpoints in connect order; the first one owns the default route.
    #[serde(default)]
    pub endpoints: Vec<EndpointState>,
    /// Published ports bound while running (a `-p 80` already resolved to its host port).
    #[serde(default)]
    pub ports: Vec<PublishedPort>,
}

impl NetworkState {
    pub fn endpoint(&self, network_id: &str) -> Option<&EndpointState> {
        self.endpoints.iter().find(|e| e.network_id == network_id)
    }
}

/// One container's membership of one network.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct EndpointState {
    pub network_id: String,
    pub network_name: String,
    /// Asked for: `--network-alias`, `--link` (user networks), `--ip`, `--mac-address`.
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub links: Vec<String>,
    #[serde(default)]
    pub ipv4_requested: Option<String>,
    #[serde(default)]
    pub mac_requested: Option<String>,
    #[serde(default)]
    pub driver_opts: Option<std::collections::HashMap<String, String>>,
    /// Made at start, cleared at exit.
    #[serde(default)]
    pub endpoint_id: String,
    #[serde(default)]
    pub ip: String,
    #[serde(default)]
    pub prefix_len: u8,
    #[serde(default)]
    pub gateway: String,
    #[serde(default)]
    pub mac: String,
    #[serde(default)]
    pub host_ifname: String,
}

impl EndpointState {
    pub fn is_live(&self) -> bool {
        !self.ip.is_empty()
    }
}

/// A published port as bound on the host.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct PublishedPort {
    /// `tcp` or `udp`.
    pub proto: String,
    pub container_port: u16,
    /// Empty for all addresses (Docker shows `0.0.0.0`).
    pub host_ip: String,
    pub host_port: u16,
}

impl ContainerRecord {
    pub fn load(dir: &Path) -> Result<Self, EngineError> {
        let path = dir.join(RECORD_FILE);
        let bytes = std::fs::read(&path).map_err(|e| EngineError::io("read", &path, e))?;
        serde_json::from_slice(&bytes).map_err(|e| {
            EngineError::Other(
                berth_core::ErrorKind::Internal,
                format!("{}: {e}", path.display()),
            )
        })
    }

    pub fn save(&self, dir: &Path) -> Result<(), EngineError> {
        self.write(dir, Durability::Durable)
    }

    /// Writes the record atomically; [`Durability::Replaceable`] skips the fsyncs.
    pub fn write(&self, dir: &Path, durability: Durability) -> Result<(), EngineError> {
        let path = dir.join(RECORD_FILE);
        let bytes = serde_json::to_vec(self)
            .map_err(|e| EngineError::Other(berth_core::ErrorKind::Internal, e.to_string()))?;
        match durability {
            Durability::Durable => atomic_write(&path, &bytes, 0o600),
            Durability::Replaceable => crate::fsutil::replace_file(&path, &bytes, 0o600),
        }
        .map_err(|e| EngineError::io("write", &path, e))
    }

    /// `/name`, as the API spells names.
    pub fn slash_name(&self) -> String {
        format!("/{}", self.name)
    }

    pub fn tty(&self) -> bool {
        self.config.tty.unwrap_or(false)
    }
}

/// Per-container paths on the data root and exec root.
#[derive(Debug, Clone)]
pub struct ContainerPaths {
    /// `<data-root>/containers/<id>`: record, etc files, log.
    pub data: PathBuf,
    /// `<exec-root>/containers/<id>` (0700): bundle, rootfs mount point.
    pub exec: PathBuf,
    /// `<exec-root>/s`: shim state directories, named short because a unix socket path
    /// must fit in 108 bytes (containerd keeps its shim sockets short for the same reason).
    pub shims: PathBuf,
}

impl ContainerPaths {
    pub fn new(data_root: &Path, exec_root: &Path, id: &str) -> Self {
        Self {
            data: data_root.join("containers").join(id),
            exec: exec_root.join("containers").join(id),
            shims: exec_root.join("s"),
        }
    }
    pub fn rootfs(&self) -> PathBuf {
        self.exec.join("rootfs")
    }
    pub fn bundle(&self) -> PathBuf {
        self.exec.join("bundle")
    }
    /// The container's shim state directory.
    pub fn shim(&self) -> PathBuf {
        let id = self
            .exec
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.shims.join(&id[..16.min(id.len())])
    }
    /// An exec's shim state directory.
    pub fn exec_dir(&self, exec_id: &str) -> PathBuf {
        self.shims
            .join(format!("x{}", &exec_id[..16.min(exec_id.len())]))
    }
    pub fn hostname(&self) -> PathBuf {
        self.data.join("hostname")
    }
    pub fn hosts(&self) -> PathBuf {
        self.data.join("hosts")
    }
    pub fn resolv_conf(&self) -> PathBuf {
        self.data.join("resolv.conf")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let rec = ContainerRecord {
            id: "a".repeat(64),
            name: "x".into(),
            created: "now".into(),
            image: "sha256:00".into(),
            config: ContainerConfig {
                cmd: Some(vec!["true".into()]),
                ..Default::default()
            },
            host_config: HostConfig::default(),
            path: "true".into(),
            args: vec![],
            state: State {
                status: Status::Exited,
                exit_code: 3,
                ..Default::default()
            },
            restart_count: 2,
            manually_stopped: false,
            driver: "overlay2".into(),
            log_path: String::new(),
            cgroups_path: String::new(),
            mount_points: Vec::new(),
            network: NetworkState::default(),
        };
        rec.save(dir.path()).unwrap();
        let back = ContainerRecord::load(dir.path()).unwrap();
        assert_eq!(back.state, rec.state);
        assert_eq!(back.config.cmd, rec.config.cmd);
        assert_eq!(back.restart_count, 2);
    }
}
