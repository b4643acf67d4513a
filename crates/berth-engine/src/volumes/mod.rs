//! Volumes with the `local` driver: named and anonymous volumes under
//! `<data-root>/volumes/<name>/_data`, their options (`type`, `device`, `o`: a tmpfs or a
//! bind-backed volume, mounted while in use), labels, references held by containers, and
//! prune. Container mounts (binds, tmpfs, which volume goes where) belong to `containers`.
//!
//! INTERFACE CONTRACT (used by `containers` and the daemon; the bodies are being written):
//! keep these signatures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use berth_api::Filters;

use crate::error::EngineError;
use crate::events::EventsBus;

/// The label Docker 23+ puts on anonymous volumes; `volume prune` without `all=true`
/// removes only volumes carrying it.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

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

pub struct VolumeService {
    root: PathBuf,
}

impl VolumeService {
    /// Opens `<data-root>/volumes`, loading every volume record.
    pub fn open(data_root: &Path) -> Result<Self, EngineError> {
        Ok(Self {
            root: data_root.join("volumes"),
        })
    }

    /// Creates a volume, or returns the existing one of that name (Docker's create is
    /// idempotent for the same driver). Publishes `volume create` for a new one.
    pub fn create(&self, req: VolumeCreate, events: &EventsBus) -> Result<Volume, EngineError> {
        let _ = (req, events, &self.root);
        unimplemented!("volumes::create")
    }

    /// 404 `get <name>: no such volume` when absent.
    pub fn get(&self, name: &str) -> Result<Volume, EngineError> {
        let _ = name;
        unimplemented!("volumes::get")
    }

    /// `GET /volumes` with filters `dangling`, `name`, `label`, `driver`.
    pub fn list(&self, filters: &Filters) -> Result<Vec<Volume>, EngineError> {
        let _ = filters;
        unimplemented!("volumes::list")
    }

    /// Records that `container_id` uses the volume (from create until rm); a referenced
    /// volume cannot be removed without `force`. References are in memory: the engine
    /// re-acquires them from the container records when it opens.
    pub fn acquire(&self, name: &str, container_id: &str) {
        let _ = (name, container_id);
    }

    /// Drops `container_id`'s reference.
    pub fn release(&self, name: &str, container_id: &str) {
        let _ = (name, container_id);
    }

    /// The containers referencing a volume.
    pub fn references(&self, name: &str) -> Vec<String> {
        let _ = name;
        Vec::new()
    }

    /// Makes the volume's content available for a container start and returns the host
    /// path to bind (its `_data`); a volume with `type`/`device` options is mounted on
    /// `_data` by the first user and unmounted by the last (`unmount`).
    pub fn mount(&self, name: &str, container_id: &str) -> Result<PathBuf, EngineError> {
        let _ = (name, container_id);
        unimplemented!("volumes::mount")
    }

    /// The container no longer runs with the volume mounted.
    pub fn unmount(&self, name: &str, container_id: &str) {
        let _ = (name, container_id);
    }

    /// `DELETE /volumes/{name}`: 409 `remove <name>: volume is in use - [<ids>]` while
    /// referenced, unless `force`. Publishes `volume destroy`.
    pub fn remove(&self, name: &str, force: bool, events: &EventsBus) -> Result<(), EngineError> {
        let _ = (name, force, events);
        unimplemented!("volumes::remove")
    }

    /// `POST /volumes/prune`: unreferenced anonymous volumes (all unreferenced ones with
    /// the `all=true` filter), also filtered by `label`/`label!`. Returns the names removed
    /// and the bytes reclaimed.
    pub fn prune(
        &self,
        filters: &Filters,
        events: &EventsBus,
    ) -> Result<(Vec<String>, u64), EngineError> {
        let _ = (filters, events);
        unimplemented!("volumes::prune")
    }

    /// Bytes used by the volume's content (`system df`).
    pub fn usage(&self, name: &str) -> Result<u64, EngineError> {
        let _ = name;
        unimplemented!("volumes::usage")
    }
}
