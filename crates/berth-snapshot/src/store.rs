//! The layer store: committed layers keyed by chain ID, active snapshots keyed by the
//! caller's key, on one of two drivers.
//!
//! ```text
//! <root>/overlay/<chain-hex>/diff      the layer's files (overlay2)
//!                          /link       short name, <root>/overlay/l/<link> → ../<chain-hex>/diff
//!                          /lower      parents' short names, "l/A:l/B" (top first), as overlay2
//!                          /parent     parent chain ID (absent for a base layer)
//!                          /diff-id    sha256 of the uncompressed tar
//! <root>/overlay/active/<sha256(key)>/{key,parent,upper,work}
//! <root>/overlay/.tmp-*                unpacks in progress; removed on open
//! <root>/vfs/...                       the same for the copy driver (diff is a full tree)
//! ```

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use berth_core::{ChainId, Digest, IdMapping, Mount};
use rand::Rng;

use crate::apply::{apply_layer_mapped, WhiteoutMode};
use crate::changes::{
    changes_size, directory_size, overlay_changes, tree_changes, Change, InitPaths, LowerView,
};
use crate::diff::{change_entries, drop_init_entries, upper_entries, write_tar};
use crate::error::{Error, IoContext};

/// Which snapshot driver the store uses (`docker info`'s "Storage Driver").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    Overlay2,
    Vfs,
}

impl Driver {
    pub fn name(self) -> &'static str {
        match self {
            Driver::Overlay2 => "overlay2",
            Driver::Vfs => "vfs",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Driver::Overlay2 => "overlay",
            Driver::Vfs => "vfs",
        }
    }
}

/// A committed layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInfo {
    pub chain_id: ChainId,
    pub parent: Option<ChainId>,
    pub diff_id: Digest,
}

/// The layer store. Cheap to share behind an `Arc`; callers serialise writes to one key.
#[derive(Debug)]
pub struct LayerStore {
    /// `<data-root>/overlay` or `<data-root>/vfs`.
    base: PathBuf,
    driver: Driver,
    /// `--userns-remap`: layers are unpacked with owners shifted to host IDs and diffed
    /// back to container IDs; a snapshot's own directories belong to the remapped root.
    ids: IdMapping,
}

const LINK_DIR: &str = "l";
const ACTIVE_DIR: &str = "active";
const TMP_PREFIX: &str = ".tmp-";
/// A layer's size as dockerd reports it, measured once when the layer is made.
const SIZE_FILE: &str = "size";

impl LayerStore {
    /// Opens (creating if needed) the store under `data_root`, choosing overlay2 when an
    /// overlay mount works there and the copy driver otherwise.
    pub fn open(data_root: &Path) -> Result<Self, Error> {
        let driver = if crate::probe::overlay_works(data_root) {
            Driver::Overlay2
        } else {
            Driver::Vfs
        };
        Self::open_with_driver(data_root, driver)
    }

    /// Opens the store with a given driver (tests, `--storage-driver`).
    pub fn open_with_driver(data_root: &Path, driver: Driver) -> Result<Self, Error> {
        let base = data_root.join(driver.dir());
        for d in [base.clone(), base.join(LINK_DIR), base.join(ACTIVE_DIR)] {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(0o710)
                .create(&d)
                .ctx("mkdir", &d)?;
        }
        let store = Self {
            base,
            driver,
            ids: IdMapping::default(),
        };
        store.repair()?;
        tracing::info!(driver = driver.name(), root = %store.base.display(), "layer store open");
        Ok(store)
    }

    pub fn driver(&self) -> Driver {
        self.driver
    }

    /// Shifts the owners of every layer applied from now on (and diffs them back) with
    /// `ids`. A store's layers must all have been made with the same mapping: the engine
    /// keeps a remapped daemon's data under a root of its own (`<data-root>/<uid>.<gid>`).
    pub fn with_id_mapping(mut self, ids: IdMapping) -> Self {
        self.ids = ids;
        self
    }

    /// Makes `dir` owned by the remapped root (a no-op without remapping), as moby's
    /// overlay2 makes a layer's `diff` and a snapshot's `upper` and `work`.
    fn own_by_root(&self, dir: &Path) -> Result<(), Error> {
        if self.ids.is_empty() {
            return Ok(());
        }
        let (uid, gid) = self.ids.root_pair();
        std::os::unix::fs::chown(dir, Some(uid), Some(gid)).ctx("chown", dir)
    }

    /// Removes unfinished unpacks and link names whose layer is gone (a crash between the
    /// two steps of a layer's creation or removal).
    fn repair(&self) -> Result<(), Error> {
        for e in fs::read_dir(&self.base).ctx("readdir", &self.base)? {
            let e = e.ctx("readdir", &self.base)?;
            if e.file_name()
                .as_encoded_bytes()
                .starts_with(TMP_PREFIX.as_bytes())
            {
                tracing::warn!(path = %e.path().display(), "removing unfinished layer");
                fs::remove_dir_all(e.path()).ctx("remove", &e.path())?;
            }
        }
        let links = self.base.join(LINK_DIR);
        for e in fs::read_dir(&links).ctx("readdir", &links)? {
            let p = e.ctx("readdir", &links)?.path();
            if fs::metadata(&p).is_err() {
                fs::remove_file(&p).ctx("remove", &p)?;
            }
        }
        Ok(())
    }

    fn layer_dir(&self, id: &ChainId) -> PathBuf {
        self.base.join(id.digest().hex())
    }

    fn active_dir(&self, key: &str) -> PathBuf {
        self.base
            .join(ACTIVE_DIR)
            .join(Digest::of(key.as_bytes()).hex())
    }

    /// Unpacks a layer archive (plain, gzip or zstd) on top of `parent` and commits it under
    /// its chain ID. Idempotent: if the layer already exists, the new copy is dropped.
    /// An unsafe archive is refused whole ([`Error::UnsafeEntry`], kind InvalidParameter)
    /// and leaves nothing behind.
    pub fn apply_layer<R: Read>(
        &self,
        parent: Option<&ChainId>,
        layer: R,
    ) -> Result<LayerInfo, Error> {
        if let Some(p) = parent {
            self.layer(p)?;
        }
        let tmp = self.base.join(format!("{TMP_PREFIX}{}", random_name(16)));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&tmp)
            .ctx("mkdir", &tmp)?;
        let result = self.apply_into(&tmp, parent, layer);
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result
    }

    fn apply_into<R: Read>(
        &self,
        tmp: &Path,
        parent: Option<&ChainId>,
        layer: R,
    ) -> Result<LayerInfo, Error> {
        let diff = tmp.join("diff");
        let mode = match self.driver {
            Driver::Overlay2 => {
                fs::create_dir(&diff).ctx("mkdir", &diff)?;
                self.own_by_root(&diff)?;
                WhiteoutMode::Overlay
            }
            Driver::Vfs => {
                match parent {
                    Some(p) => copy_tree(&self.layer_dir(p).join("diff"), &diff)?,
                    None => {
                        fs::create_dir(&diff).ctx("mkdir", &diff)?;
                        self.own_by_root(&diff)?;
                    }
                }
                WhiteoutMode::Delete
            }
        };
        let applied = apply_layer_mapped(layer, &diff, mode, &self.ids)?;
        let chain_id = ChainId::next(parent, &applied.diff_id);
        let info = LayerInfo {
            chain_id: chain_id.clone(),
            parent: parent.cloned(),
            diff_id: applied.diff_id,
        };
        let final_dir = self.layer_dir(&chain_id);
        if final_dir.exists() {
            fs::remove_dir_all(tmp).ctx("remove", tmp)?;
            return Ok(info);
        }
        write_file(&tmp.join("diff-id"), info.diff_id.to_string().as_bytes())?;
        let size = self.measure_layer(&diff, parent)?;
        write_file(&tmp.join(SIZE_FILE), size.to_string().as_bytes())?;
        if let Some(p) = parent {
            write_file(&tmp.join("parent"), p.to_string().as_bytes())?;
        }
        if self.driver == Driver::Overlay2 {
            let short = random_name(26);
            write_file(&tmp.join("link"), short.as_bytes())?;
            let lower = match parent {
                None => String::new(),
                Some(p) => {
                    let pdir = self.layer_dir(p);
                    let plink = read_string(&pdir.join("link"))?;
                    let plower = read_string(&pdir.join("lower")).unwrap_or_default();
                    if plower.is_empty() {
                        format!("{LINK_DIR}/{plink}")
                    } else {
                        format!("{LINK_DIR}/{plink}:{plower}")
                    }
                }
            };
            write_file(&tmp.join("lower"), lower.as_bytes())?;
            let link = self.base.join(LINK_DIR).join(&short);
            std::os::unix::fs::symlink(format!("../{}/diff", chain_id.digest().hex()), &link)
                .ctx("symlink", &link)?;
        }
        // One flush of the whole filesystem instead of an fsync per file.
        sync_fs(tmp)?;
        fs::rename(tmp, &final_dir).ctx("rename", &final_dir)?;
        sync_dir(&self.base)?;
        Ok(info)
    }

    /// The committed layer `id`.
    pub fn layer(&self, id: &ChainId) -> Result<LayerInfo, Error> {
        let dir = self.layer_dir(id);
        let diff_id =
            read_string(&dir.join("diff-id")).map_err(|_| Error::LayerNotFound(id.to_string()))?;
        let parent = read_string(&dir.join("parent")).ok();
        let parse = |s: &str| -> Result<Digest, Error> {
            s.parse().map_err(|_| Error::LayerNotFound(id.to_string()))
        };
        Ok(LayerInfo {
            chain_id: id.clone(),
            parent: parent
                .map(|p| parse(&p).map(ChainId::from_digest))
                .transpose()?,
            diff_id: parse(&diff_id)?,
        })
    }

    /// Every committed layer, in chain ID order.
    pub fn list_layers(&self) -> Result<Vec<LayerInfo>, Error> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.base).ctx("readdir", &self.base)? {
            let e = e.ctx("readdir", &self.base)?;
            if let Ok(d) = Digest::from_hex(&e.file_name().to_string_lossy()) {
                out.push(self.layer(&ChainId::from_digest(d))?);
            }
        }
        out.sort_by(|a, b| a.chain_id.cmp(&b.chain_id));
        Ok(out)
    }

    /// Removes a committed layer. Refused (Conflict) while a layer or an active snapshot
    /// has it as parent: the caller removes from the top down.
    pub fn remove_layer(&self, id: &ChainId) -> Result<(), Error> {
        self.layer(id)?;
        for l in self.list_layers()? {
            if l.parent.as_ref() == Some(id) {
                return Err(Error::LayerInUse(
                    id.to_string(),
                    format!("layer {}", l.chain_id),
                ));
            }
        }
        let actives = self.base.join(ACTIVE_DIR);
        for e in fs::read_dir(&actives).ctx("readdir", &actives)? {
            let dir = e.ctx("readdir", &actives)?.path();
            if read_string(&dir.join("parent")).ok().as_deref() == Some(&id.to_string()) {
                let key = read_string(&dir.join("key")).unwrap_or_default();
                return Err(Error::LayerInUse(
                    id.to_string(),
                    format!("snapshot {key:?}"),
                ));
            }
        }
        let dir = self.layer_dir(id);
        // Renaming first makes the removal atomic for readers; repair() finishes a crash.
        let doomed = self
            .base
            .join(format!("{TMP_PREFIX}rm-{}", random_name(12)));
        fs::rename(&dir, &doomed).ctx("rename", &dir)?;
        if let Ok(short) = read_string(&doomed.join("link")) {
            let _ = fs::remove_file(self.base.join(LINK_DIR).join(short));
        }
        fs::remove_dir_all(&doomed).ctx("remove", &doomed)
    }

    /// Creates the active snapshot `key` on top of `parent` (or empty) and returns its mounts.
    pub fn prepare(&self, key: &str, parent: Option<&ChainId>) -> Result<Vec<Mount>, Error> {
        if let Some(p) = parent {
            self.layer(p)?;
        }
        let dir = self.active_dir(key);
        if dir.exists() {
            return Err(Error::SnapshotExists(key.to_owned()));
        }
        let tmp = self.base.join(format!("{TMP_PREFIX}{}", random_name(16)));
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&tmp)
            .ctx("mkdir", &tmp)?;
        let made = (|| {
            write_file(&tmp.join("key"), key.as_bytes())?;
            if let Some(p) = parent {
                write_file(&tmp.join("parent"), p.to_string().as_bytes())?;
            }
            match self.driver {
                Driver::Overlay2 => {
                    fs::create_dir(tmp.join("upper")).ctx("mkdir", &tmp)?;
                    fs::create_dir(tmp.join("work")).ctx("mkdir", &tmp)?;
                    self.own_by_root(&tmp.join("upper"))?;
                    self.own_by_root(&tmp.join("work"))?;
                }
                Driver::Vfs => match parent {
                    Some(p) => copy_tree(&self.layer_dir(p).join("diff"), &tmp.join("fs"))?,
                    None => {
                        fs::create_dir(tmp.join("fs")).ctx("mkdir", &tmp)?;
                        self.own_by_root(&tmp.join("fs"))?;
                    }
                },
            }
            fs::rename(&tmp, &dir).ctx("rename", &dir)
        })();
        if made.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        made?;
        self.mounts(key)
    }

    /// The mounts of the active snapshot `key`.
    pub fn mounts(&self, key: &str) -> Result<Vec<Mount>, Error> {
        let dir = self.active_dir(key);
        if !dir.join("key").exists() {
            return Err(Error::SnapshotNotFound(key.to_owned()));
        }
        let path = |p: &Path| p.to_string_lossy().into_owned();
        if self.driver == Driver::Vfs {
            return Ok(vec![Mount {
                kind: "bind".into(),
                source: path(&dir.join("fs")),
                target: None,
                options: vec!["rbind".into(), "rw".into()],
            }]);
        }
        let parent = read_string(&dir.join("parent")).ok();
        let mut lowers = Vec::new();
        if let Some(p) = parent {
            let pdir = self.base.join(p.trim_start_matches("sha256:"));
            lowers.push(format!("{LINK_DIR}/{}", read_string(&pdir.join("link"))?));
            let rest = read_string(&pdir.join("lower")).unwrap_or_default();
            lowers.extend(rest.split(':').filter(|s| !s.is_empty()).map(str::to_owned));
        }
        let upper = dir.join("upper");
        if lowers.is_empty() {
            // overlayfs needs a lower; with none, the upper dir is the whole rootfs.
            return Ok(vec![Mount {
                kind: "bind".into(),
                source: path(&upper),
                target: None,
                options: vec!["rbind".into(), "rw".into()],
            }]);
        }
        let lowerdir: Vec<String> = lowers.iter().map(|l| path(&self.base.join(l))).collect();
        Ok(vec![Mount {
            kind: "overlay".into(),
            source: "overlay".into(),
            target: None,
            options: vec![
                "index=off".into(),
                format!("lowerdir={}", lowerdir.join(":")),
                format!("upperdir={}", path(&upper)),
                format!("workdir={}", path(&dir.join("work"))),
            ],
        }])
    }

    /// Removes the active snapshot `key` (which must not be mounted).
    pub fn remove(&self, key: &str) -> Result<(), Error> {
        let dir = self.active_dir(key);
        if !dir.exists() {
            return Err(Error::SnapshotNotFound(key.to_owned()));
        }
        let doomed = self
            .base
            .join(format!("{TMP_PREFIX}rm-{}", random_name(12)));
        fs::rename(&dir, &doomed).ctx("rename", &dir)?;
        fs::remove_dir_all(&doomed).ctx("remove", &doomed)
    }

    /// Bytes used on disk by a committed layer's own files (overlay: its diff only).
    pub fn layer_usage(&self, id: &ChainId) -> Result<u64, Error> {
        self.layer(id)?;
        dir_usage(&self.layer_dir(id).join("diff"))
    }

    /// Bytes written by the active snapshot `key` (its upper dir, or the whole copy for vfs).
    pub fn snapshot_usage(&self, key: &str) -> Result<u64, Error> {
        let dir = self.active_dir(key);
        if !dir.exists() {
            return Err(Error::SnapshotNotFound(key.to_owned()));
        }
        dir_usage(&dir.join(match self.driver {
            Driver::Overlay2 => "upper",
            Driver::Vfs => "fs",
        }))
    }

    /// A committed layer's size as dockerd reports it (`docker history`, image sizes): the
    /// apparent size of the files it brings (overlay: moby's `directory.Size` of its diff
    /// dir; copy driver: the size of what changed against its parent), measured once.
    pub fn layer_size(&self, id: &ChainId) -> Result<u64, Error> {
        let info = self.layer(id)?;
        let dir = self.layer_dir(id);
        if let Some(n) = read_string(&dir.join(SIZE_FILE))
            .ok()
            .and_then(|s| s.parse().ok())
        {
            return Ok(n);
        }
        // A layer made before sizes were recorded: measure now and keep the answer.
        let size = self.measure_layer(&dir.join("diff"), info.parent.as_ref())?;
        let tmp = dir.join(format!("{TMP_PREFIX}{SIZE_FILE}-{}", random_name(8)));
        if write_file(&tmp, size.to_string().as_bytes()).is_ok() {
            let _ = fs::rename(&tmp, dir.join(SIZE_FILE));
        }
        Ok(size)
    }

    fn measure_layer(&self, diff: &Path, parent: Option<&ChainId>) -> Result<u64, Error> {
        match self.driver {
            Driver::Overlay2 => directory_size(diff),
            Driver::Vfs => {
                let parent_diff = parent.map(|p| self.layer_dir(p).join("diff"));
                let changes = tree_changes(parent_diff.as_deref(), diff, &InitPaths::default())?;
                Ok(changes_size(diff, &changes))
            }
        }
    }

    /// The size of what the active snapshot `key` wrote, as dockerd reports a container's
    /// `SizeRw`: overlay, `directory.Size` of the upper dir; copy driver, the size of the
    /// added and modified files.
    pub fn snapshot_size(&self, key: &str) -> Result<u64, Error> {
        let dir = self.active_dir(key);
        if !dir.exists() {
            return Err(Error::SnapshotNotFound(key.to_owned()));
        }
        match self.driver {
            Driver::Overlay2 => directory_size(&dir.join("upper")),
            Driver::Vfs => {
                let changes = self.changes(key, &InitPaths::default())?;
                Ok(changes_size(&dir.join("fs"), &changes))
            }
        }
    }

    /// Writes the changes of the active snapshot `key` as an OCI layer tar (uncompressed,
    /// sorted, with whiteouts) to `out`, without the `init` paths the parent lacks. With no
    /// changes it is an empty archive (1024 zero bytes), whose digest dockerd knows as the
    /// empty layer.
    pub fn diff<W: Write>(&self, key: &str, init: &InitPaths, out: W) -> Result<W, Error> {
        let dir = self.active_dir(key);
        if !dir.exists() {
            return Err(Error::SnapshotNotFound(key.to_owned()));
        }
        let entries = match self.driver {
            Driver::Overlay2 => {
                let mut entries = upper_entries(&dir.join("upper"))?;
                let lower = self.lower_view(&dir);
                drop_init_entries(&mut entries, init, |p| lower.lookup(p));
                entries
            }
            Driver::Vfs => change_entries(&dir.join("fs"), &self.changes(key, init)?),
        };
        write_tar(&entries, &self.ids, out)
    }

    /// The A/C/D changes of the active snapshot `key` against its parent, sorted by path;
    /// the `init` paths count as the parent's.
    pub fn changes(&self, key: &str, init: &InitPaths) -> Result<Vec<Change>, Error> {
        let dir = self.active_dir(key);
        if !dir.exists() {
            return Err(Error::SnapshotNotFound(key.to_owned()));
        }
        match self.driver {
            Driver::Vfs => {
                let parent = read_string(&dir.join("parent"))
                    .ok()
                    .map(|p| self.base.join(p.trim_start_matches("sha256:")).join("diff"));
                tree_changes(parent.as_deref(), &dir.join("fs"), init)
            }
            Driver::Overlay2 => overlay_changes(&dir.join("upper"), &self.lower_view(&dir), init),
        }
    }

    /// The parent's layers of the active snapshot in `dir`, topmost first (overlay).
    fn lower_view(&self, dir: &Path) -> LowerView {
        let mut layers = Vec::new();
        if let Ok(p) = read_string(&dir.join("parent")) {
            let pdir = self.base.join(p.trim_start_matches("sha256:"));
            layers.push(pdir.join("diff"));
            let plower = read_string(&pdir.join("lower")).unwrap_or_default();
            layers.extend(
                plower
                    .split(':')
                    .filter(|s| !s.is_empty())
                    .map(|l| self.base.join(l)),
            );
        }
        LowerView { layers }
    }
}

fn random_name(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

fn write_file(path: &Path, data: &[u8]) -> Result<(), Error> {
    fs::write(path, data).ctx("write", path)
}

fn read_string(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .ctx("read", path)
}

fn sync_fs(path: &Path) -> Result<(), Error> {
    let f = fs::File::open(path).ctx("open", path)?;
    nix::unistd::syncfs(std::os::fd::AsRawFd::as_raw_fd(&f)).ctx("syncfs", path)
}

fn sync_dir(path: &Path) -> Result<(), Error> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .ctx("fsync", path)
}

/// Copies a layer tree with every attribute (the copy driver). `cp -a` preserves modes,
/// owners, times, xattrs, hardlinks, devices and fifos, and reflinks where it can.
fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    let status = std::process::Command::new("cp")
        .args(["-a", "--reflink=auto", "--no-target-directory"])
        .arg(from)
        .arg(to)
        .status()
        .ctx("cp -a", from)?;
    if !status.success() {
        return Err(Error::Io {
            op: "cp -a",
            path: from.to_owned(),
            source: std::io::Error::other(format!("cp exited with {status}")),
        });
    }
    Ok(())
}

fn dir_usage(root: &Path) -> Result<u64, Error> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).ctx("readdir", &d)? {
            let p = e.ctx("readdir", &d)?.path();
            let m = fs::symlink_metadata(&p).ctx("lstat", &p)?;
            if m.is_dir() {
                stack.push(p);
            }
            if seen.insert((m.dev(), m.ino())) {
                total += m.blocks() * 512;
            }
        }
    }
    Ok(total)
}
