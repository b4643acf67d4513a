//! Containers: records, names, the lifecycle on per-container shims, exec, and the `ps`
//! view. Like moby's daemon, the records keep the API's own Config and HostConfig types.

pub mod archive;
mod cgroupfs;
mod changes;
mod commit;
mod create;
pub mod disk_usage;
pub mod etc_files;
mod exec;
pub mod export;
mod health;
mod ipc;
mod lifecycle;
mod list;
mod log_attrs;
pub mod logs;
mod mounts;
pub mod names;
pub mod record;
mod restore;
pub mod rootfs;
pub mod rootview;
mod runtime_spec;
mod seccomp_programs;
pub mod user;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use berth_core::ErrorKind;
use tokio::sync::watch;

pub use crate::timefilter::parse_until;
pub use changes::changes;
pub use commit::{commit, CommitRequest};
pub use create::{create, parse_size, CreateOptions, Created};
pub use exec::{exec_create, exec_inspect, exec_resize, exec_start, ExecRecord, ExecStarted};
pub use ipc::check_default_mode as check_default_ipc_mode;
pub use lifecycle::{
    attach, kill, pause, remove, rename, resize, restart, start, stop, unpause, update, wait,
    AttachOptions, AttachStream, RemoveOptions, WaitCondition,
};
pub use list::{list, ListOptions};
pub use record::{ContainerPaths, ContainerRecord, MountKind, MountPoint, State, Status};
pub use restore::restore;

use crate::error::EngineError;

/// Locks a std mutex, shrugging off poisoning (state stays consistent: every writer
/// persists whole records).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What `wait` watches.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WaitState {
    /// Number of exits seen since the daemon started.
    pub exits: u64,
    pub running: bool,
    pub exit_code: i64,
    pub error: Option<String>,
    pub removed: bool,
}

/// One attach that waits for the container's next start.
pub(crate) struct PendingAttach {
    pub options: AttachOptions,
    pub reply: tokio::sync::oneshot::Sender<Result<AttachStream, EngineError>>,
}

pub struct Container {
    pub id: String,
    pub paths: ContainerPaths,
    pub(crate) record: Mutex<ContainerRecord>,
    /// Serialises lifecycle operations (start, stop, kill, remove, restart, update).
    pub(crate) op: tokio::sync::Mutex<()>,
    pub(crate) shim: Mutex<Option<Arc<berth_shim::client::ShimClient>>>,
    pub(crate) wait_tx: watch::Sender<WaitState>,
    pub(crate) pending_attach: Mutex<Vec<PendingAttach>>,
    /// Bumped on every start so a stale monitor or restart timer knows to stand down.
    pub(crate) generation: Mutex<u64>,
}

impl Container {
    fn new(rec: ContainerRecord, paths: ContainerPaths) -> Arc<Self> {
        let running = rec.state.running();
        let exit_code = rec.state.exit_code;
        Arc::new(Self {
            id: rec.id.clone(),
            paths,
            record: Mutex::new(rec),
            op: tokio::sync::Mutex::new(()),
            shim: Mutex::new(None),
            wait_tx: watch::channel(WaitState {
                running,
                exit_code,
                ..Default::default()
            })
            .0,
            pending_attach: Mutex::new(Vec::new()),
            generation: Mutex::new(0),
        })
    }

    /// A copy of the record.
    pub fn snapshot(&self) -> ContainerRecord {
        lock(&self.record).clone()
    }

    /// Changes the record and persists it durably.
    pub(crate) fn update_record<R>(
        &self,
        f: impl FnOnce(&mut ContainerRecord) -> R,
    ) -> Result<R, EngineError> {
        self.update_record_as(record::Durability::Durable, f)
    }

    /// Changes the record and persists it as `durability` says (`Replaceable` for a record
    /// about to be deleted: an AutoRemove container's exit, `Removing`).
    pub(crate) fn update_record_as<R>(
        &self,
        durability: record::Durability,
        f: impl FnOnce(&mut ContainerRecord) -> R,
    ) -> Result<R, EngineError> {
        let mut rec = lock(&self.record);
        let out = f(&mut rec);
        rec.write(&self.paths.data, durability)?;
        Ok(out)
    }

    pub(crate) fn shim(&self) -> Option<Arc<berth_shim::client::ShimClient>> {
        lock(&self.shim).clone()
    }

    pub fn subscribe_wait(&self) -> watch::Receiver<WaitState> {
        self.wait_tx.subscribe()
    }
}

#[derive(Default)]
struct Index {
    by_id: HashMap<String, Arc<Container>>,
    /// name (without slash) → id
    names: HashMap<String, String>,
}

/// Where containers live and how they are run, fixed at daemon start.
#[derive(Debug, Clone)]
pub struct ContainerSettings {
    pub data_root: PathBuf,
    pub exec_root: PathBuf,
    /// The `berth` binary, run as `berth shim`.
    pub berth_exe: PathBuf,
    /// The static `--init` program, if the daemon has one.
    pub init_path: Option<PathBuf>,
    /// cgroup under which containers' cgroups are made (`<parent>/<id>`).
    pub cgroup_parent: String,
    /// Default log driver and options (`--log-driver`, `--log-opt`).
    pub log_driver: String,
    pub log_opts: HashMap<String, String>,
    /// `--default-ipc-mode`: `private` or `shareable`.
    pub default_ipc_mode: String,
    /// `--userns-remap`'s mappings (empty without remapping).
    pub id_mapping: berth_core::IdMapping,
}

pub struct ContainerService {
    pub(crate) settings: ContainerSettings,
    index: RwLock<Index>,
    pub(crate) execs: Mutex<HashMap<String, Arc<exec::Exec>>>,
    pub(crate) size_cache: disk_usage::SizeCache,
    pub(crate) seccomp_programs: seccomp_programs::SeccompPrograms,
}

impl ContainerService {
    /// Loads every container record under the data root (no processes are touched; see
    /// [`restore`] for reconnecting to shims).
    pub fn open(settings: ContainerSettings) -> Result<Self, EngineError> {
        let dir = settings.data_root.join("containers");
        std::fs::create_dir_all(&dir).map_err(|e| EngineError::io("create directory", &dir, e))?;
        std::fs::create_dir_all(settings.exec_root.join("containers"))
            .map_err(|e| EngineError::io("create directory", &settings.exec_root, e))?;
        let mut index = Index::default();
        for entry in std::fs::read_dir(&dir).map_err(|e| EngineError::io("read", &dir, e))? {
            let Ok(entry) = entry else { continue };
            let path = entry.path();
            match ContainerRecord::load(&path) {
                Ok(rec) => {
                    let paths =
                        ContainerPaths::new(&settings.data_root, &settings.exec_root, &rec.id);
                    index.names.insert(rec.name.clone(), rec.id.clone());
                    index
                        .by_id
                        .insert(rec.id.clone(), Container::new(rec, paths));
                }
                Err(e) => {
                    // A create that crashed before its record was written: nothing refers
                    // to the directory, so it goes.
                    tracing::warn!(dir = %path.display(), error = %e, "removing a container directory without a record");
                    let _ = std::fs::remove_dir_all(&path);
                }
            }
        }
        Ok(Self {
            settings,
            index: RwLock::new(index),
            execs: Mutex::new(HashMap::new()),
            size_cache: disk_usage::SizeCache::default(),
            seccomp_programs: Default::default(),
        })
    }

    pub fn settings(&self) -> &ContainerSettings {
        &self.settings
    }

    /// Forgets the cached size of a container's writable layer; call it after writing into
    /// a stopped container's filesystem from outside (an archive PUT).
    pub fn invalidate_size(&self, id: &str) {
        self.size_cache.invalidate(id);
    }

    /// Looks a container up by full ID, name (with or without slash) or unambiguous ID
    /// prefix, as Docker does (a name wins over a prefix).
    pub fn get(&self, name_or_id: &str) -> Result<Arc<Container>, EngineError> {
        let index = self.index.read().unwrap_or_else(|p| p.into_inner());
        let key = name_or_id.strip_prefix('/').unwrap_or(name_or_id);
        if key.is_empty() {
            return Err(not_found(name_or_id));
        }
        if let Some(c) = index.by_id.get(key) {
            return Ok(c.clone());
        }
        if let Some(id) = index.names.get(key) {
            if let Some(c) = index.by_id.get(id) {
                return Ok(c.clone());
            }
        }
        let mut matches = index.by_id.values().filter(|c| c.id.starts_with(key));
        match (matches.next(), matches.next()) {
            (Some(c), None) => Ok(c.clone()),
            (Some(_), Some(_)) => Err(EngineError::Other(
                ErrorKind::InvalidParameter,
                format!("multiple IDs found with provided prefix: {key}"),
            )),
            _ => Err(not_found(name_or_id)),
        }
    }

    pub fn all(&self) -> Vec<Arc<Container>> {
        self.index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_id
            .values()
            .cloned()
            .collect()
    }

    pub fn count(&self) -> usize {
        self.index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .by_id
            .len()
    }

    /// Reserves `name` for `id`, or the 409 Docker answers.
    pub(crate) fn reserve_name(&self, name: &str, id: &str) -> Result<(), EngineError> {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        if let Some(holder) = index.names.get(name) {
            return Err(EngineError::Other(
                ErrorKind::Conflict,
                format!(
                    "Conflict. The container name \"/{name}\" is already in use by container \"{holder}\". You have to remove (or rename) that container to be able to reuse that name."
                ),
            ));
        }
        index.names.insert(name.to_owned(), id.to_owned());
        Ok(())
    }

    pub(crate) fn release_name(&self, name: &str, id: &str) {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        if index.names.get(name).map(String::as_str) == Some(id) {
            index.names.remove(name);
        }
    }

    pub(crate) fn insert(&self, c: Arc<Container>) {
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        index.by_id.insert(c.id.clone(), c);
    }

    pub(crate) fn forget(&self, id: &str) {
        self.size_cache.forget(id);
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = index.by_id.remove(id) {
            let name = lock(&c.record).name.clone();
            if index.names.get(&name).map(String::as_str) == Some(id) {
                index.names.remove(&name);
            }
        }
    }

    /// A generated name that is free.
    pub(crate) fn generate_name(&self, id: &str) -> Result<String, EngineError> {
        for retry in 0..10 {
            let name = names::generate(retry);
            if self.reserve_name(&name, id).is_ok() {
                return Ok(name);
            }
        }
        let name = id[..12.min(id.len())].to_owned();
        self.reserve_name(&name, id)?;
        Ok(name)
    }

    /// Which container uses an image, for the image store's delete checks.
    pub fn image_user(&self, image_id: &str) -> Option<berth_image::ContainerUse> {
        let mut found = None;
        for c in self.all() {
            let rec = lock(&c.record);
            if rec.image == image_id {
                let running = rec.state.running();
                if running || found.is_none() {
                    found = Some(berth_image::ContainerUse {
                        container_id: rec.id.clone(),
                        running,
                    });
                }
                if running {
                    break;
                }
            }
        }
        found
    }
}

pub fn not_found(name: &str) -> EngineError {
    EngineError::Other(ErrorKind::NotFound, format!("No such container: {name}"))
}

pub(crate) fn conflict(msg: impl Into<String>) -> EngineError {
    EngineError::Other(ErrorKind::Conflict, msg.into())
}

pub(crate) fn internal(msg: impl Into<String>) -> EngineError {
    EngineError::Other(ErrorKind::Internal, msg.into())
}

/// RFC 3339 with nanoseconds in UTC, as Go's time.RFC3339Nano prints it.
pub fn now_rfc3339() -> String {
    rfc3339(std::time::SystemTime::now())
}

pub fn rfc3339(t: std::time::SystemTime) -> String {
    let dt: chrono::DateTime<chrono::Utc> = t.into();
    let s = dt.format("%Y-%m-%dT%H:%M:%S%.9f").to_string();
    // Go trims trailing zeros of the fraction.
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}Z")
}

/// Go's zero time, which Docker prints for a never-started container.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";
