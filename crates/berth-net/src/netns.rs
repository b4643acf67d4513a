//! Named network namespaces: a namespace kept alive by a bind mount of its nsfs file on
//! an ordinary file, as `ip netns add` does, but at any path (the engine keeps one per
//! container under its own state directory).
//!
//! Entering a namespace changes only the calling thread, and a tokio worker thread must
//! never be left in a container's namespace, so every function here does its namespace
//! work on a short-lived thread of its own.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::netlink::Netlink;
use crate::NetError;

/// The calling thread's own network namespace file.
const THREAD_NETNS: &str = "/proc/thread-self/ns/net";

fn ns_err(path: &Path, op: &'static str, source: io::Error) -> NetError {
    NetError::Netns {
        path: path.to_path_buf(),
        op,
        source,
    }
}

/// Creates a new network namespace kept at `path` (the file and its parent directories
/// are created; the file must not exist yet), with its loopback up. The caller's
/// namespace is not changed.
pub fn netns_create(path: &Path) -> Result<(), NetError> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| ns_err(path, "create parent directory", e))?;
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .open(path)
        .map_err(|e| ns_err(path, "create mount point", e))?;

    let made = std::thread::scope(|s| {
        s.spawn(|| -> Result<(), NetError> {
            unshare(CloneFlags::CLONE_NEWNET).map_err(|e| ns_err(path, "unshare", e.into()))?;
            mount(
                Some(THREAD_NETNS),
                path,
                None::<&str>,
                MsFlags::MS_BIND,
                None::<&str>,
            )
            .map_err(|e| ns_err(path, "bind mount", e.into()))?;
            loopback_up_here().map_err(|e| match e {
                NetError::Netlink { source, .. } => ns_err(path, "set loopback up", source),
                other => other,
            })
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    });
    if let Err(e) = made {
        let _ = netns_remove(path);
        return Err(e);
    }
    tracing::debug!(path = %path.display(), "network namespace created");
    Ok(())
}

/// Sets `lo` up inside the namespace kept at `path`.
pub(crate) fn loopback_up(path: &Path) -> Result<(), NetError> {
    netns_run(path, loopback_up_here)?.map_err(|e| match e {
        NetError::Netlink { source, .. } => ns_err(path, "set loopback up", source),
        other => other,
    })
}

/// Sets `lo` up in the namespace of the current thread (which has no tokio runtime).
fn loopback_up_here() -> Result<(), NetError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(|e| NetError::io("starting a netlink runtime", e))?;
    rt.block_on(async {
        let nl = Netlink::new().await?;
        nl.set_link_up("lo").await
    })
}

/// Unmounts (lazily) and deletes a namespace file. A missing file, or one that is not
/// mounted, is fine: removal is idempotent.
pub fn netns_remove(path: &Path) -> Result<(), NetError> {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(ns_err(path, "unmount", e.into())),
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(ns_err(path, "remove", e)),
    }
}

/// Runs `f` on a fresh thread that has entered the namespace at `path`, and returns its
/// result. Sockets `f` opens belong to that namespace for their whole life, so `f` can
/// hand them back. A panic in `f` is propagated.
pub fn netns_run<T: Send>(path: &Path, f: impl FnOnce() -> T + Send) -> Result<T, NetError> {
    let file = File::open(path).map_err(|e| ns_err(path, "open", e))?;
    std::thread::scope(|s| {
        s.spawn(move || {
            setns(&file, CloneFlags::CLONE_NEWNET).map_err(|e| ns_err(path, "setns", e.into()))?;
            Ok(f())
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}
