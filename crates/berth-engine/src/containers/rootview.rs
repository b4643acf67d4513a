//! A container's complete filesystem view for blocking code (`docker cp`, `export`): its
//! root (the running container's overlay, or the stopped container's snapshot mounted for
//! the occasion) with, on request, its binds, volumes and tmpfs mounts on top, assembled
//! in a private mount namespace on a throwaway thread.
//!
//! The closure gets a [`RootView`]: a [`berth_rootfs::Root`] descriptor to do every file
//! operation through (never a host path string), and the container's record. The
//! namespace, and every mount made for the view, dies with the thread: nothing leaks,
//! whether the closure succeeds, fails or panics, and nothing is ever seen by the host or
//! by the container.
//!
//! The container's lifecycle lock is held for the whole call (as moby holds the container
//! lock until an archive is read), so it cannot start or stop under the view: a stopped
//! container's snapshot is never mounted twice. Call from a blocking thread (inside
//! `spawn_blocking`), never from async code.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use berth_core::ErrorKind;
use berth_rootfs::{Root, ViewMount};

use super::record::{ContainerRecord, MountKind};
use super::{internal, Container};
use crate::error::EngineError;
use crate::Engine;

/// What the view holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ViewOptions {
    /// Mount the container's binds, volumes (each as read-only as the container has it)
    /// and a private empty tmpfs at each tmpfs destination. Without them, the view is the
    /// container's own filesystem only (what `export` archives).
    pub include_mounts: bool,
    /// Leave the root and the container's writable mounts writable. Without it, every
    /// mount of the view is read-only. (A `--read-only` container's rootfs stays writable
    /// here: refusing writes to it with Docker's message is the caller's, see
    /// [`RootView::on_rootfs`].)
    pub writable: bool,
}

/// The view handed to the closure of [`with_root_view`].
pub struct RootView {
    root: Root,
    record: ContainerRecord,
    root_mount: u64,
}

impl RootView {
    /// The container's `/`: resolve every path through it.
    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The container's record as it was when the view was made.
    pub fn record(&self) -> &ContainerRecord {
        &self.record
    }

    /// Whether `fd` (something reached through [`RootView::root`]) lies on the container's
    /// own root filesystem rather than on one of its mounts.
    pub fn on_rootfs(&self, fd: &impl std::os::fd::AsFd) -> std::io::Result<bool> {
        Ok(berth_rootfs::mount_id(fd)? == self.root_mount)
    }

    /// A host path naming the view's root, for code that takes a root *path* and resolves
    /// inside it itself (e.g. [`super::user::resolve`]). Valid only inside the closure.
    pub fn root_path(&self) -> PathBuf {
        use std::os::fd::{AsFd, AsRawFd};
        PathBuf::from(format!("/proc/self/fd/{}", self.root.as_fd().as_raw_fd()))
    }
}

/// Runs `f` with the view of container `c` (see the module doc). Errors setting the view
/// up are returned as [`EngineError`]; `f`'s own result is passed through.
pub fn with_root_view<T, F>(
    engine: &Engine,
    c: &Container,
    opts: ViewOptions,
    f: F,
) -> Result<T, EngineError>
where
    T: Send,
    F: FnOnce(&RootView) -> T + Send,
{
    let _op = c.op.blocking_lock();
    let record = c.snapshot();
    // Volumes with their own mount (`type`/`device` options) must be up before the view's
    // namespace copies the host's mounts; the view counts as one more user while it lives.
    let _volumes = if opts.include_mounts {
        VolumeUse::take(engine, &record)?
    } else {
        VolumeUse::none(engine, &record)
    };
    let rootfs = c.paths.rootfs();
    let exec_dir = c.paths.exec.clone();
    let layers = engine.images.layers();
    let id = c.id.clone();
    let view = berth_rootfs::in_private_mount_namespace(move || {
        // A running container's overlay is mounted there already (this namespace has its
        // own copy of that mount); otherwise, mount the snapshot here, privately.
        let mounted = record.state.running() && berth_rootfs::is_mount_root(&rootfs)?;
        if !mounted {
            let mounts = layers.mounts(&id).map_err(std::io::Error::other)?;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&exec_dir)?;
            std::fs::create_dir_all(&rootfs)?;
            berth_snapshot::mount_all(&mounts, &rootfs).map_err(std::io::Error::other)?;
        }
        let result = build_and_run(&rootfs, record, opts, f);
        // Dropping the namespace would do it too, but asynchronously: unmount now, so a
        // start that follows at once never finds the snapshot still mounted here.
        if let Err(e) = berth_rootfs::unmount_detach(&rootfs) {
            tracing::debug!(error = %e, "detaching the root view");
        }
        result
    });
    view.map_err(|e| internal(format!("container filesystem view: {e}")))?
}

/// The view's own use of the container's volumes, given back on drop.
struct VolumeUse<'a> {
    engine: &'a Engine,
    user: String,
    names: Vec<String>,
}

impl<'a> VolumeUse<'a> {
    fn none(engine: &'a Engine, record: &ContainerRecord) -> Self {
        Self {
            engine,
            user: format!("{}/view", record.id),
            names: Vec::new(),
        }
    }

    fn take(engine: &'a Engine, record: &ContainerRecord) -> Result<Self, EngineError> {
        let mut used = Self::none(engine, record);
        for mp in &record.mount_points {
            if mp.kind == MountKind::Volume && !mp.name.is_empty() {
                engine.volumes.mount(&mp.name, &used.user)?;
                used.names.push(mp.name.clone());
            }
        }
        Ok(used)
    }
}

impl Drop for VolumeUse<'_> {
    fn drop(&mut self) {
        for name in &self.names {
            self.engine.volumes.unmount(name, &self.user);
        }
    }
}

fn build_and_run<T, F>(
    rootfs: &Path,
    record: ContainerRecord,
    opts: ViewOptions,
    f: F,
) -> std::io::Result<Result<T, EngineError>>
where
    F: FnOnce(&RootView) -> T,
{
    let root = Root::open(rootfs)?;
    if opts.include_mounts {
        for mp in &record.mount_points {
            let m = match mp.kind {
                MountKind::Tmpfs => ViewMount::Tmpfs {
                    destination: mp.destination.as_bytes(),
                    options: &mp.tmpfs_options,
                },
                MountKind::Bind | MountKind::Volume => ViewMount::Bind {
                    source: Path::new(&mp.source),
                    destination: mp.destination.as_bytes(),
                    read_only: !mp.rw || !opts.writable,
                    recursive: !mp.non_recursive,
                },
            };
            if let Err(e) = berth_rootfs::mount_into(&root, &m) {
                return Ok(Err(EngineError::Other(
                    ErrorKind::Internal,
                    format!("mounting {} in the container view: {e}", mp.destination),
                )));
            }
        }
    }
    // Read-only only now: a missing mount point is made in the container's own layer
    // first, as moby (and the container's next start) would make it.
    if !opts.writable {
        berth_rootfs::make_read_only(rootfs)?;
    }
    let root_mount = berth_rootfs::mount_id(&root)?;
    let view = RootView {
        root,
        record,
        root_mount,
    };
    Ok(Ok(f(&view)))
}
