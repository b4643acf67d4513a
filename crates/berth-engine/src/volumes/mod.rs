//! Volumes with the `local` driver: named and anonymous volumes under
//! `<data-root>/volumes/<name>/_data`, their options (`type`, `device`, `o`: a tmpfs or a
//! bind-backed volume, mounted while in use), labels, references held by containers, and
//! prune. Container mounts (binds, tmpfs, which volume goes where) belong to `containers`.
//!
//! INTERFACE CONTRACT (used by `containers` and the daemon): keep these signatures.
//!
//! Concurrency: one mutex guards the table of volumes and their references (short, never
//! held across I/O that can block for long); creates, removes and prunes are serialised
//! by a second one so a name is never made and unmade at once; each volume's mount state
//! has its own lock, so a slow mount(2) holds up only that volume.

mod filters;
mod mounts;
mod names;
mod options;
mod record;
mod size;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use berth_api::events::event_type;
use berth_api::Filters;
use berth_core::ErrorKind;

use crate::containers::lock;
use crate::error::EngineError;
use crate::events::EventsBus;

pub use record::VolumeRecord;

use filters::{Candidate, ListFilter, PruneFilter};
use record::Layout;

/// The label Docker 23+ puts on anonymous volumes; `volume prune` without `all=true`
/// removes only volumes carrying it.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// The one driver there is.
pub const LOCAL_DRIVER: &str = "local";

/// One volume as the API shows it (`GET /volumes/{name}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Volume {
    pub name: String,
    /// Always `local` for now.
    pub driver: String,
    /// `<data-root>/volumes/<name>/_data`: what containers bind.
    pub mountpoint: PathBuf,
    /// RFC 3339, as Docker's `CreatedAt`.
    pub created_at: String,
    pub labels: BTreeMap<String, String>,
    /// The driver options given at create (`type`, `device`, `o`).
    pub options: BTreeMap<String, String>,
}

/// `POST /volumes/create`.
#[derive(Debug, Clone, Default)]
pub struct VolumeCreate {
    /// None or empty: a generated 64-hex name.
    pub name: Option<String>,
    /// None or empty: `local`.
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// A volume's line in `system df`: its content's size (-1 when it could not be
/// measured) and how many containers reference it.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeUsage {
    pub volume: Volume,
    pub size: i64,
    pub ref_count: usize,
}

/// Who has the volume mounted now, and whether its own mount (for `type`/`device`
/// options) is up.
#[derive(Debug, Default)]
struct MountState {
    users: BTreeSet<String>,
    mounted: bool,
}

struct Slot {
    rec: Arc<VolumeRecord>,
    refs: BTreeSet<String>,
    mount: Arc<Mutex<MountState>>,
}

pub struct VolumeService {
    layout: Layout,
    table: Mutex<BTreeMap<String, Slot>>,
    /// Serialises create, remove and prune.
    ops: Mutex<()>,
    prune_running: AtomicBool,
}

fn no_such_volume(name: &str) -> EngineError {
    EngineError::Other(ErrorKind::NotFound, format!("get {name}: no such volume"))
}

fn op_error(kind: ErrorKind, op: &str, name: &str, err: impl std::fmt::Display) -> EngineError {
    EngineError::Other(kind, format!("{op} {name}: {err}"))
}

/// Docker's `CreatedAt`: RFC 3339 to the second, in the daemon's time zone.
fn created_at(created: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(created)
        .map(|t| {
            t.with_timezone(&chrono::Local)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap_or_default()
}

impl VolumeService {
    /// Opens `<data-root>/volumes`, loading every volume record.
    pub fn open(data_root: &Path) -> Result<Self, EngineError> {
        Self::open_with_data_owner(data_root, None)
    }

    /// [`VolumeService::open`] with new volumes' `_data` owned by `owner` (the remapped
    /// root under `--userns-remap`).
    pub fn open_with_data_owner(
        data_root: &Path,
        owner: Option<(u32, u32)>,
    ) -> Result<Self, EngineError> {
        let mut layout = Layout::new(data_root);
        layout.data_owner = owner;
        layout.ensure_root()?;
        let scan = layout.scan()?;
        let mut table = BTreeMap::new();
        for rec in scan.records {
            // A volume mount that outlived the daemon stays in use; the users come back
            // as containers are restored.
            let mounted = rec.needs_mount() && mounts::is_mountpoint(&layout.data(&rec.name));
            table.insert(
                rec.name.clone(),
                Slot {
                    rec: Arc::new(rec),
                    refs: BTreeSet::new(),
                    mount: Arc::new(Mutex::new(MountState {
                        users: BTreeSet::new(),
                        mounted,
                    })),
                },
            );
        }
        Ok(Self {
            layout,
            table: Mutex::new(table),
            ops: Mutex::new(()),
            prune_running: AtomicBool::new(false),
        })
    }

    fn view(&self, rec: &VolumeRecord) -> Volume {
        Volume {
            name: rec.name.clone(),
            driver: rec.driver.clone(),
            mountpoint: self.layout.data(&rec.name),
            created_at: created_at(&rec.created),
            labels: rec.labels.clone(),
            options: rec.options.clone(),
        }
    }

    fn record(&self, name: &str) -> Option<Arc<VolumeRecord>> {
        lock(&self.table).get(name).map(|s| s.rec.clone())
    }

    fn publish(events: &EventsBus, action: &str, name: &str, driver: &str) {
        let attrs = BTreeMap::from([("driver".to_owned(), driver.to_owned())]);
        events.publish(event_type::VOLUME, action, name, attrs);
    }

    /// Creates a volume, or returns the existing one of that name (Docker's create is
    /// idempotent for the same driver). Publishes `volume create` for a new one.
    /// A volume created without a name gets a generated one and [`ANONYMOUS_LABEL`].
    pub fn create(&self, req: VolumeCreate, events: &EventsBus) -> Result<Volume, EngineError> {
        let _ops = lock(&self.ops);
        self.create_locked(req, events)
    }

    /// [`create`](Self::create) plus [`acquire`](Self::acquire) for `container_id`, in
    /// one step: no remove or prune can take the volume in between (moby's
    /// `CreateWithReference`). For a container's `-v name:/path` and anonymous volumes.
    pub fn create_acquired(
        &self,
        req: VolumeCreate,
        container_id: &str,
        events: &EventsBus,
    ) -> Result<Volume, EngineError> {
        let _ops = lock(&self.ops);
        let volume = self.create_locked(req, events)?;
        self.try_acquire(&volume.name, container_id)?;
        Ok(volume)
    }

    /// The caller holds `ops`.
    fn create_locked(&self, req: VolumeCreate, events: &EventsBus) -> Result<Volume, EngineError> {
        let mut labels = req.labels;
        let name = match req.name.filter(|n| !n.is_empty()) {
            Some(n) => n,
            None => {
                labels.insert(ANONYMOUS_LABEL.to_owned(), String::new());
                names::generate()
            }
        };
        let driver = req
            .driver
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| LOCAL_DRIVER.to_owned());
        if driver != LOCAL_DRIVER {
            return Err(op_error(
                ErrorKind::NotFound,
                "create",
                &name,
                format!("error looking up volume plugin {driver}: plugin \"{driver}\" not found"),
            ));
        }
        if let Some(rec) = self.record(&name) {
            return Ok(self.view(&rec));
        }
        names::validate(&name)
            .map_err(|e| op_error(ErrorKind::InvalidParameter, "create", &name, e))?;
        options::validate(&req.driver_opts)
            .map_err(|e| op_error(ErrorKind::InvalidParameter, "create", &name, e))?;
        let rec = VolumeRecord {
            name: name.clone(),
            driver,
            created: crate::containers::now_rfc3339(),
            labels,
            options: req.driver_opts,
        };
        self.layout.create(&rec).map_err(|e| {
            op_error(
                ErrorKind::Internal,
                "create",
                &name,
                format!("error while creating volume: {e}"),
            )
        })?;
        let volume = self.view(&rec);
        lock(&self.table).insert(
            name.clone(),
            Slot {
                rec: Arc::new(rec),
                refs: BTreeSet::new(),
                mount: Arc::default(),
            },
        );
        Self::publish(events, "create", &name, &volume.driver);
        Ok(volume)
    }

    /// 404 `get <name>: no such volume` when absent.
    pub fn get(&self, name: &str) -> Result<Volume, EngineError> {
        self.record(name)
            .map(|rec| self.view(&rec))
            .ok_or_else(|| no_such_volume(name))
    }

    /// `GET /volumes` with filters `dangling`, `name`, `label`, `driver`; sorted by name.
    pub fn list(&self, filters: &Filters) -> Result<Vec<Volume>, EngineError> {
        let filter = ListFilter::new(filters)?;
        let table = lock(&self.table);
        Ok(table
            .values()
            .filter(|s| {
                filter.selects(&Candidate {
                    rec: &s.rec,
                    referenced: !s.refs.is_empty(),
                })
            })
            .map(|s| self.view(&s.rec))
            .collect())
    }

    /// Records that `container_id` uses the volume (from create until rm); a referenced
    /// volume cannot be removed. References are in memory: the engine re-acquires them
    /// from the container records when it opens. A volume that does not exist is ignored.
    pub fn acquire(&self, name: &str, container_id: &str) {
        match lock(&self.table).get_mut(name) {
            Some(slot) => {
                slot.refs.insert(container_id.to_owned());
            }
            None => {
                tracing::warn!(
                    volume = name,
                    container = container_id,
                    "reference to a missing volume"
                )
            }
        }
    }

    /// [`acquire`](Self::acquire), or 404 `get <name>: no such volume` when there is no
    /// such volume (also when it is being removed): the check and the reference are one
    /// step.
    pub fn try_acquire(&self, name: &str, container_id: &str) -> Result<(), EngineError> {
        let mut table = lock(&self.table);
        let slot = table.get_mut(name).ok_or_else(|| no_such_volume(name))?;
        slot.refs.insert(container_id.to_owned());
        Ok(())
    }

    /// Drops `container_id`'s reference.
    pub fn release(&self, name: &str, container_id: &str) {
        if let Some(slot) = lock(&self.table).get_mut(name) {
            slot.refs.remove(container_id);
        }
    }

    /// The containers referencing a volume, sorted.
    pub fn references(&self, name: &str) -> Vec<String> {
        lock(&self.table)
            .get(name)
            .map(|s| s.refs.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Makes the volume's content available for a container start and returns the host
    /// path to bind (its `_data`); a volume with `type`/`device` options is mounted on
    /// `_data` by the first user and unmounted by the last (`unmount`). Mounting twice
    /// for the same container counts once.
    pub fn mount(&self, name: &str, container_id: &str) -> Result<PathBuf, EngineError> {
        let (rec, state) = {
            let table = lock(&self.table);
            let slot = table.get(name).ok_or_else(|| no_such_volume(name))?;
            (slot.rec.clone(), slot.mount.clone())
        };
        let data = self.layout.data(name);
        let mut state = lock(&state);
        if rec.needs_mount() && !state.mounted {
            let opt = |k: &str| rec.options.get(k).map(String::as_str).unwrap_or_default();
            if opt("device").is_empty() {
                return Err(EngineError::Other(
                    ErrorKind::Internal,
                    "missing device in volume options".into(),
                ));
            }
            mounts::mount(opt("device"), &data, opt("type"), opt("o")).map_err(|e| {
                EngineError::Other(
                    ErrorKind::Internal,
                    format!("failed to mount local volume: {e}"),
                )
            })?;
            tracing::debug!(volume = name, "mounted volume");
            state.mounted = true;
        }
        state.users.insert(container_id.to_owned());
        Ok(data)
    }

    /// The container no longer runs with the volume mounted (however many times it
    /// mounted it). The last user's unmount takes the volume's own mount down.
    pub fn unmount(&self, name: &str, container_id: &str) {
        let Some(state) = lock(&self.table).get(name).map(|s| s.mount.clone()) else {
            return;
        };
        let mut state = lock(&state);
        state.users.remove(container_id);
        if state.users.is_empty() && state.mounted {
            match mounts::unmount(&self.layout.data(name)) {
                Ok(()) => {
                    tracing::debug!(volume = name, "unmounted volume");
                    state.mounted = false;
                }
                Err(e) => tracing::error!(volume = name, error = %e, "unmounting volume"),
            }
        }
    }

    /// `DELETE /volumes/{name}`: 409 `remove <name>: volume is in use - [<ids>]` while
    /// referenced (with or without `force`, as in moby); `force` makes a missing volume
    /// no error. Publishes `volume destroy`.
    pub fn remove(&self, name: &str, force: bool, events: &EventsBus) -> Result<(), EngineError> {
        let _ops = lock(&self.ops);
        match self.remove_locked(name) {
            Ok(driver) => {
                Self::publish(events, "destroy", name, &driver);
                Ok(())
            }
            Err(e) if force && e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Takes the volume out of the table and off the disk; returns its driver. The
    /// caller holds `ops`.
    fn remove_locked(&self, name: &str) -> Result<String, EngineError> {
        // Out of the table at once, with the reference check under the same lock: from
        // here no container can acquire it. Put back if it cannot go after all.
        let slot = {
            let mut table = lock(&self.table);
            let slot = table.get(name).ok_or_else(|| no_such_volume(name))?;
            if !slot.refs.is_empty() {
                let refs: Vec<&str> = slot.refs.iter().map(String::as_str).collect();
                return Err(op_error(
                    ErrorKind::Conflict,
                    "remove",
                    name,
                    format!("volume is in use - [{}]", refs.join(", ")),
                ));
            }
            table.remove(name).ok_or_else(|| no_such_volume(name))?
        };
        match self.delete(&slot) {
            Ok(()) => Ok(slot.rec.driver.clone()),
            Err(e) => {
                lock(&self.table).insert(name.to_owned(), slot);
                Err(op_error(ErrorKind::Internal, "remove", name, e))
            }
        }
    }

    /// Unmounts the volume's own mount and deletes its directory.
    fn delete(&self, slot: &Slot) -> Result<(), String> {
        let name = &slot.rec.name;
        let data = self.layout.data(name);
        {
            let mut state = lock(&slot.mount);
            if !state.users.is_empty() {
                return Err("volume has active mounts".into());
            }
            if slot.rec.needs_mount() || state.mounted {
                mounts::unmount(&data)?;
                state.mounted = false;
            }
        }
        // Never delete through a mount: behind a bind is someone else's directory.
        if !mounts::mounts_under(&self.layout.dir(name)).is_empty() {
            return Err(format!(
                "error removing volume path '{}': it has mounts inside",
                data.display()
            ));
        }
        let gone = self
            .layout
            .detach(name)
            .map_err(|e| format!("error removing volume path '{}': {e}", data.display()))?;
        record::remove_leftover(&gone);
        Ok(())
    }

    /// `POST /volumes/prune`: unreferenced anonymous volumes (all unreferenced ones with
    /// the `all=true` filter), also filtered by `label`/`label!`; volumes with driver
    /// options are left alone, as in moby. Returns the names removed and the bytes
    /// reclaimed, and publishes `volume prune`.
    pub fn prune(
        &self,
        filters: &Filters,
        events: &EventsBus,
    ) -> Result<(Vec<String>, u64), EngineError> {
        let filter = PruneFilter::new(filters)?;
        if self.prune_running.swap(true, Ordering::AcqRel) {
            return Err(EngineError::Other(
                ErrorKind::Conflict,
                "a prune operation is already running".into(),
            ));
        }
        let result = self.prune_unguarded(&filter, events);
        self.prune_running.store(false, Ordering::Release);
        let (deleted, reclaimed) = result;
        let attrs = BTreeMap::from([("reclaimed".to_owned(), reclaimed.to_string())]);
        events.publish(event_type::VOLUME, "prune", "", attrs);
        Ok((deleted, reclaimed))
    }

    fn prune_unguarded(&self, filter: &PruneFilter, events: &EventsBus) -> (Vec<String>, u64) {
        let candidates: Vec<String> = lock(&self.table)
            .values()
            .filter(|s| {
                filter.selects(&Candidate {
                    rec: &s.rec,
                    referenced: !s.refs.is_empty(),
                })
            })
            .map(|s| s.rec.name.clone())
            .collect();
        let mut deleted = Vec::new();
        let mut reclaimed = 0u64;
        for name in candidates {
            let bytes = match size::content_size(&self.layout.data(&name)) {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(volume = %name, error = %e, "could not determine size of volume");
                    0
                }
            };
            let _ops = lock(&self.ops);
            // Taken since the list was made: no longer prunable.
            if !lock(&self.table)
                .get(&name)
                .is_some_and(|s| s.refs.is_empty())
            {
                continue;
            }
            match self.remove_locked(&name) {
                Ok(driver) => {
                    Self::publish(events, "destroy", &name, &driver);
                    reclaimed += bytes;
                    deleted.push(name);
                }
                Err(e) => tracing::warn!(volume = %name, error = %e, "prune"),
            }
        }
        (deleted, reclaimed)
    }

    /// Bytes used by the volume's content (`system df`).
    pub fn usage(&self, name: &str) -> Result<u64, EngineError> {
        if self.record(name).is_none() {
            return Err(no_such_volume(name));
        }
        let data = self.layout.data(name);
        size::content_size(&data).map_err(|e| EngineError::io("measure", data, e))
    }

    /// `system df`: local volumes without driver options (the others' space is not
    /// really local, as moby reasons), each with its size and reference count.
    pub fn disk_usage(&self) -> Vec<VolumeUsage> {
        let rows: Vec<(Arc<VolumeRecord>, usize)> = lock(&self.table)
            .values()
            .filter(|s| s.rec.driver == LOCAL_DRIVER && s.rec.options.is_empty())
            .map(|s| (s.rec.clone(), s.refs.len()))
            .collect();
        rows.into_iter()
            .map(|(rec, ref_count)| {
                let size = match size::content_size(&self.layout.data(&rec.name)) {
                    Ok(b) => i64::try_from(b).unwrap_or(i64::MAX),
                    Err(e) => {
                        tracing::warn!(volume = %rec.name, error = %e, "failed to determine size of volume");
                        -1
                    }
                };
                VolumeUsage {
                    volume: self.view(&rec),
                    size,
                    ref_count,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
