//! A volume's metadata file and its place on disk: `<root>/<name>/volume.json` next to
//! `<root>/<name>/_data`. A volume is made under a temporary name and renamed into place
//! once its metadata is durable, and renamed away before it is deleted, so a crash never
//! leaves a half-made or half-removed volume under a real name; the leftovers (whose names
//! start with a dot, which no volume name can) are removed at open.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::mounts;
use crate::error::EngineError;
use crate::fsutil::atomic_write;

/// The directory holding a volume's content, as Docker names it.
pub const DATA_DIR: &str = "_data";
const METADATA_FILE: &str = "volume.json";
const CREATING_PREFIX: &str = ".creating-";
const REMOVING_PREFIX: &str = ".removing-";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VolumeRecord {
    pub name: String,
    pub driver: String,
    /// RFC 3339 in UTC with nanoseconds.
    pub created: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The driver options given at create (`type`, `device`, `o`, `size`).
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl VolumeRecord {
    /// Whether `_data` gets a mount of its own while in use (a `type` or `device` option).
    pub fn needs_mount(&self) -> bool {
        ["type", "device"]
            .iter()
            .any(|k| self.options.get(*k).is_some_and(|v| !v.is_empty()))
    }
}

/// Where volumes live: `<data-root>/volumes`.
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
    /// Who owns a new volume's `_data`: the remapped root under `--userns-remap` (as
    /// moby's local driver), else root.
    pub data_owner: Option<(u32, u32)>,
}

/// What `Layout::scan` found on disk.
pub struct Scan {
    pub records: Vec<VolumeRecord>,
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> EngineError + 'a {
    move |e| EngineError::io(op, path, e)
}

fn mkdir(path: &Path, mode: u32) -> io::Result<()> {
    fs::DirBuilder::new().mode(mode).create(path)?;
    // The umask may have narrowed the mode.
    fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
}

fn sync_dir(path: &Path) -> io::Result<()> {
    fs::File::open(path)?.sync_all()
}

fn random_suffix() -> String {
    hex::encode(rand::random::<[u8; 6]>())
}

impl Layout {
    pub fn new(data_root: &Path) -> Self {
        Self {
            root: data_root.join("volumes"),
            data_owner: None,
        }
    }

    pub fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    pub fn data(&self, name: &str) -> PathBuf {
        self.dir(name).join(DATA_DIR)
    }

    /// Creates the root (0701, as Docker: traversable to reach `_data`, not listable).
    pub fn ensure_root(&self) -> Result<(), EngineError> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o701)
            .create(&self.root)
            .map_err(io_err("create directory", &self.root))?;
        fs::set_permissions(
            &self.root,
            std::os::unix::fs::PermissionsExt::from_mode(0o701),
        )
        .map_err(io_err("chmod", &self.root))
    }

    /// Loads every volume: removes the leftovers of interrupted creates and removes,
    /// adopts a volume directory that has content but no metadata (one copied in by hand,
    /// as Docker's local driver lists any directory), and skips what it cannot read.
    pub fn scan(&self) -> Result<Scan, EngineError> {
        let mut records = Vec::new();
        let entries = fs::read_dir(&self.root).map_err(io_err("read", &self.root))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = entry.path();
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if name.starts_with(CREATING_PREFIX) || name.starts_with(REMOVING_PREFIX) {
                remove_leftover(&path);
                continue;
            }
            match self.load(&name) {
                Ok(Some(rec)) => records.push(rec),
                Ok(None) => match self.adopt(&name) {
                    Ok(Some(rec)) => records.push(rec),
                    Ok(None) => {
                        tracing::warn!(path = %path.display(), "skipping a directory that is not a volume")
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "cannot adopt volume")
                    }
                },
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "skipping an unreadable volume")
                }
            }
        }
        records.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Scan { records })
    }

    /// The record in `<name>/volume.json`; None when there is no such file.
    fn load(&self, name: &str) -> Result<Option<VolumeRecord>, EngineError> {
        let path = self.dir(name).join(METADATA_FILE);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(EngineError::io("read", &path, e)),
        };
        let rec: VolumeRecord = serde_json::from_slice(&bytes).map_err(|e| {
            EngineError::Other(
                berth_core::ErrorKind::Internal,
                format!("volume record {}: {e}", path.display()),
            )
        })?;
        if rec.name != name {
            return Err(EngineError::Other(
                berth_core::ErrorKind::Internal,
                format!("volume record {} names {:?}", path.display(), rec.name),
            ));
        }
        Ok(Some(rec))
    }

    /// A directory with a valid name and a `_data` directory but no metadata: a volume
    /// with no labels or options, created when its directory was.
    fn adopt(&self, name: &str) -> Result<Option<VolumeRecord>, EngineError> {
        if super::names::validate(name).is_err() {
            return Ok(None);
        }
        let data = self.data(name);
        if !fs::symlink_metadata(&data).is_ok_and(|m| m.is_dir()) {
            return Ok(None);
        }
        let dir = self.dir(name);
        let meta = fs::metadata(&dir).map_err(io_err("stat", &dir))?;
        let created = std::time::UNIX_EPOCH
            + std::time::Duration::new(meta.ctime().max(0) as u64, meta.ctime_nsec() as u32);
        let rec = VolumeRecord {
            name: name.to_owned(),
            driver: super::LOCAL_DRIVER.to_owned(),
            created: crate::containers::rfc3339(created),
            labels: BTreeMap::new(),
            options: BTreeMap::new(),
        };
        let path = dir.join(METADATA_FILE);
        write_record(&path, &rec)?;
        tracing::info!(volume = name, "adopted a volume directory without metadata");
        Ok(Some(rec))
    }

    /// Makes `<name>/_data` (0755) and the metadata, durably, under a temporary name,
    /// then renames it into place.
    pub fn create(&self, rec: &VolumeRecord) -> Result<(), EngineError> {
        let tmp = self
            .root
            .join(format!("{CREATING_PREFIX}{}-{}", rec.name, random_suffix()));
        let result = (|| {
            mkdir(&tmp, 0o701).map_err(io_err("create directory", &tmp))?;
            let data = tmp.join(DATA_DIR);
            mkdir(&data, 0o755).map_err(io_err("create directory", &data))?;
            if let Some((uid, gid)) = self.data_owner {
                std::os::unix::fs::chown(&data, Some(uid), Some(gid))
                    .map_err(io_err("chown", &data))?;
            }
            write_record(&tmp.join(METADATA_FILE), rec)?;
            let dest = self.dir(&rec.name);
            fs::rename(&tmp, &dest).map_err(io_err("rename", &dest))?;
            sync_dir(&self.root).map_err(io_err("sync", &self.root))
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result
    }

    /// Takes the volume's directory out of its name (atomically, so it is gone at once
    /// and no half-deleted volume can be found later) and returns where it went.
    pub fn detach(&self, name: &str) -> Result<PathBuf, EngineError> {
        let dir = self.dir(name);
        let gone = self
            .root
            .join(format!("{REMOVING_PREFIX}{name}-{}", random_suffix()));
        fs::rename(&dir, &gone).map_err(io_err("rename", &dir))?;
        sync_dir(&self.root).map_err(io_err("sync", &self.root))?;
        Ok(gone)
    }
}

fn write_record(path: &Path, rec: &VolumeRecord) -> Result<(), EngineError> {
    let bytes = serde_json::to_vec_pretty(rec).map_err(|e| {
        EngineError::Other(
            berth_core::ErrorKind::Internal,
            format!("volume record: {e}"),
        )
    })?;
    atomic_write(path, &bytes, 0o600).map_err(|e| EngineError::io("write", path, e))
}

/// Deletes a detached volume directory, unless something is still mounted inside it
/// (deleting through a bind mount would delete the host directory behind it).
pub fn remove_leftover(path: &Path) {
    let busy = mounts::mounts_under(path);
    if !busy.is_empty() {
        tracing::warn!(path = %path.display(), mounts = ?busy, "not removing a volume directory with mounts inside");
        return;
    }
    if let Err(e) = fs::remove_dir_all(path) {
        if e.kind() != io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), error = %e, "removing a volume directory");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn record(name: &str) -> VolumeRecord {
        VolumeRecord {
            name: name.into(),
            driver: "local".into(),
            created: "2026-01-02T03:04:05.123Z".into(),
            labels: [("a".to_string(), "b".to_string())].into(),
            options: [("type".to_string(), "tmpfs".to_string())].into(),
        }
    }

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn records_round_trip_with_dockers_modes() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        layout.ensure_root().unwrap();
        let rec = record("v1");
        layout.create(&rec).unwrap();
        assert_eq!(mode(&layout.root), 0o701);
        assert_eq!(mode(&layout.dir("v1")), 0o701);
        assert_eq!(mode(&layout.data("v1")), 0o755);
        let scan = layout.scan().unwrap();
        assert_eq!(scan.records, vec![rec]);
        // Only the volume's own directory is left: no temporary names.
        let names: Vec<_> = fs::read_dir(&layout.root)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["v1"]);
    }

    #[test]
    fn scan_cleans_leftovers_adopts_bare_volumes_and_skips_junk() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        layout.ensure_root().unwrap();
        let half = layout.root.join(".creating-v2-abc");
        fs::create_dir_all(half.join("_data")).unwrap();
        let removing = layout.root.join(".removing-v3-abc");
        fs::create_dir_all(removing.join("_data/x")).unwrap();
        fs::create_dir_all(layout.data("bare")).unwrap();
        fs::write(layout.data("bare").join("f"), b"kept").unwrap();
        fs::create_dir_all(layout.root.join("nodata")).unwrap();
        fs::create_dir_all(layout.dir("broken")).unwrap();
        fs::write(layout.dir("broken").join(METADATA_FILE), b"{").unwrap();
        fs::write(layout.root.join("metadata.db"), b"").unwrap();

        let scan = layout.scan().unwrap();
        let names: Vec<&str> = scan.records.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["bare"]);
        assert!(scan.records[0].labels.is_empty() && scan.records[0].options.is_empty());
        assert!(!half.exists() && !removing.exists());
        assert_eq!(fs::read(layout.data("bare").join("f")).unwrap(), b"kept");
        // Adopted once means a record now: the next scan loads it as it is.
        assert_eq!(layout.scan().unwrap().records, scan.records);
        assert!(layout.dir("nodata").exists() && layout.dir("broken").exists());
    }

    #[test]
    fn detach_moves_the_volume_out_of_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        layout.ensure_root().unwrap();
        layout.create(&record("v1")).unwrap();
        let gone = layout.detach("v1").unwrap();
        assert!(!layout.dir("v1").exists());
        assert!(gone.join("_data").is_dir());
        remove_leftover(&gone);
        assert!(!gone.exists());
        assert!(layout.scan().unwrap().records.is_empty());
    }

    #[test]
    fn needs_mount_only_with_type_or_device() {
        let mut rec = record("v");
        assert!(rec.needs_mount());
        rec.options = [("size".to_string(), "0".to_string())].into();
        assert!(!rec.needs_mount());
    }
}
