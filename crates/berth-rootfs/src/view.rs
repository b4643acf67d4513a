//! Assembling a container's filesystem view in a private mount namespace: the namespace
//! belongs to one throwaway thread, so the mounts made for the view are seen by no other
//! thread (the daemon's async workers included), never propagate to the host, and vanish
//! with the thread, even when the work in it fails or panics.
//!
//! Mount destinations are resolved inside the root ([`Root::open_at`]) and the mounts are
//! attached to the resolved descriptor (`open_tree` + `move_mount`, or a mount on
//! `/proc/self/fd/N`), so a symlink in the container can never redirect a mount to the
//! host (CVE-2021-30465, GHSA-vp62-88p7-qqf5).

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use rustix::fs::{
    openat, statx, AtFlags, FileType, Mode, OFlags, StatxAttributes, StatxFlags, CWD,
};
use rustix::io::Errno;
use rustix::mount::{move_mount, open_tree, MoveMountFlags, OpenTreeFlags};

use crate::path;
use crate::root::{fstat_path, io_err, is_missing, Root};

/// Runs `f` on a new OS thread that first unshares its filesystem attributes and its mount
/// namespace and makes every mount in it private. Returns what `f` returns; a panic in
/// `f` is resumed here.
pub fn in_private_mount_namespace<T, F>(f: F) -> io::Result<T>
where
    T: Send,
    F: FnOnce() -> io::Result<T> + Send,
{
    std::thread::scope(|s| {
        let worker = std::thread::Builder::new()
            .name("berth-rootview".into())
            .spawn_scoped(s, move || {
                unshare(CloneFlags::CLONE_FS | CloneFlags::CLONE_NEWNS).map_err(io::Error::from)?;
                mount(
                    None::<&str>,
                    "/",
                    None::<&str>,
                    MsFlags::MS_REC | MsFlags::MS_PRIVATE,
                    None::<&str>,
                )
                .map_err(io::Error::from)?;
                f()
            })?;
        worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// One mount of the view.
#[derive(Debug, Clone)]
pub enum ViewMount<'a> {
    /// A host directory or file (a bind mount, or a volume's data directory).
    Bind {
        source: &'a Path,
        /// The absolute path inside the container.
        destination: &'a [u8],
        read_only: bool,
        /// `rbind` (submounts too) unless the mount asked for a plain bind.
        recursive: bool,
    },
    /// A fresh, private tmpfs (as moby's view gives each copy operation its own).
    Tmpfs {
        destination: &'a [u8],
        /// mount(8)-style options (`size=64m`, `mode=1777`, `noexec`…).
        options: &'a [String],
    },
}

/// Mounts `m` inside `root`. Call only inside [`in_private_mount_namespace`].
pub fn mount_into(root: &Root, m: &ViewMount<'_>) -> io::Result<()> {
    match m {
        ViewMount::Bind {
            source,
            destination,
            read_only,
            recursive,
        } => {
            let is_dir = std::fs::metadata(source)?.is_dir();
            let target = mount_point(root, destination, is_dir)?;
            let mut flags = OpenTreeFlags::OPEN_TREE_CLONE | OpenTreeFlags::OPEN_TREE_CLOEXEC;
            if *recursive {
                flags |= OpenTreeFlags::AT_RECURSIVE;
            }
            let tree = open_tree(CWD, *source, flags).map_err(io_err)?;
            move_mount(
                &tree,
                "",
                &target,
                "",
                MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
            )
            .map_err(io_err)?;
            if *read_only {
                // The destination now leads to the new mount's root: remount that.
                let mounted = root.open_at(destination, OFlags::PATH)?;
                remount(&mounted, MsFlags::MS_BIND | MsFlags::MS_RDONLY)?;
            }
            Ok(())
        }
        ViewMount::Tmpfs {
            destination,
            options,
        } => {
            let target = mount_point(root, destination, true)?;
            let mut flags = MsFlags::empty();
            let mut data = Vec::new();
            for o in options.iter() {
                match o.as_str() {
                    "ro" => flags |= MsFlags::MS_RDONLY,
                    "rw" => {}
                    "nosuid" => flags |= MsFlags::MS_NOSUID,
                    "nodev" => flags |= MsFlags::MS_NODEV,
                    "noexec" => flags |= MsFlags::MS_NOEXEC,
                    other => data.push(other),
                }
            }
            let data = data.join(",");
            mount(
                Some("tmpfs"),
                proc_fd(&target).as_str(),
                Some("tmpfs"),
                flags,
                Some(data.as_str()),
            )
            .map_err(io::Error::from)
        }
    }
}

/// Makes the mount at `dir` (a trusted host path, the view's root mount) read-only.
pub fn make_read_only(dir: &Path) -> io::Result<()> {
    mount(
        None::<&str>,
        dir,
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .map_err(io::Error::from)
}

/// Detaches the mount at `dir` (and everything below it) in this namespace.
pub fn unmount_detach(dir: &Path) -> io::Result<()> {
    nix::mount::umount2(dir, nix::mount::MntFlags::MNT_DETACH).map_err(io::Error::from)
}

/// Whether `dir` (a trusted host path) is the root of a mount.
pub fn is_mount_root(dir: &Path) -> io::Result<bool> {
    let st = statx(CWD, dir, AtFlags::SYMLINK_NOFOLLOW, StatxFlags::BASIC_STATS).map_err(io_err)?;
    if st.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT) {
        return Ok(st.stx_attributes.contains(StatxAttributes::MOUNT_ROOT));
    }
    // Before Linux 5.8: a mount root sits on another device than its parent, or is its
    // own parent's inode.
    let parent = dir.join("..");
    let up = statx(CWD, &parent, AtFlags::empty(), StatxFlags::BASIC_STATS).map_err(io_err)?;
    Ok(
        (st.stx_dev_major, st.stx_dev_minor) != (up.stx_dev_major, up.stx_dev_minor)
            || st.stx_ino == up.stx_ino,
    )
}

/// The ID of the mount `fd` lies on (`statx` `STATX_MNT_ID`): two descriptors with the
/// same ID are on the same mount.
pub fn mount_id(fd: &impl AsFd) -> io::Result<u64> {
    let st = statx(fd, "", AtFlags::EMPTY_PATH, StatxFlags::MNT_ID).map_err(io_err)?;
    Ok(st.stx_mnt_id)
}

/// Whether the mount `fd` lies on is read-only.
pub fn on_read_only_mount(fd: &impl AsFd) -> io::Result<bool> {
    let st = rustix::fs::fstatvfs(fd).map_err(io_err)?;
    Ok(st.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY))
}

fn remount(fd: &OwnedFd, flags: MsFlags) -> io::Result<()> {
    mount(
        None::<&str>,
        proc_fd(fd).as_str(),
        None::<&str>,
        MsFlags::MS_REMOUNT | flags,
        None::<&str>,
    )
    .map_err(io::Error::from)
}

fn proc_fd(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// The destination inside the root, made if missing (a directory, or an empty file for a
/// file mount, with missing parents), as an `O_PATH` descriptor. Its kind must match.
fn mount_point(root: &Root, destination: &[u8], dir: bool) -> io::Result<OwnedFd> {
    let fd = match root.open_at(destination, OFlags::PATH) {
        Ok(fd) => fd,
        Err(e) if is_missing(&e) => {
            if dir {
                root.mkdir_all(destination, 0o755, None)?;
            } else {
                let cleaned = path::clean(destination);
                root.mkdir_all(&path::dir(&cleaned), 0o755, None)?;
                let (parent, name) = root.parent(&cleaned)?;
                let name = name.unwrap_or_default();
                let flags = OFlags::WRONLY
                    | OFlags::CREATE
                    | OFlags::EXCL
                    | OFlags::NOFOLLOW
                    | OFlags::CLOEXEC;
                match openat(&parent, name.as_slice(), flags, Mode::from_raw_mode(0o644)) {
                    Ok(_) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            root.open_at(destination, OFlags::PATH)?
        }
        Err(e) => return Err(e),
    };
    let is_dir = FileType::from_raw_mode(fstat_path(&fd)?.st_mode) == FileType::Directory;
    match (dir, is_dir) {
        (true, false) => Err(Errno::NOTDIR.into()),
        (false, true) => Err(Errno::ISDIR.into()),
        _ => Ok(fd),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn is_root() -> bool {
        nix::unistd::geteuid().is_root()
    }

    #[test]
    fn mounts_land_inside_the_root_and_vanish_with_the_thread() {
        if !is_root() {
            return;
        }
        let host = tempfile::tempdir().unwrap();
        let volume = tempfile::tempdir().unwrap();
        std::fs::write(volume.path().join("data"), b"volume").unwrap();
        let root = tempfile::tempdir().unwrap();
        // The destination's parent is a symlink to the host's root: it must resolve inside.
        symlink("/", root.path().join("sneaky")).unwrap();
        let dest = format!("/sneaky{}/vol", host.path().display());
        let ro = "/ro".to_string();
        let tmp = "/scratch".to_string();
        let options = vec!["size=1m".to_string()];
        let seen = in_private_mount_namespace(|| {
            let r = Root::open(root.path())?;
            for m in [
                ViewMount::Bind {
                    source: volume.path(),
                    destination: dest.as_bytes(),
                    read_only: false,
                    recursive: true,
                },
                ViewMount::Bind {
                    source: volume.path(),
                    destination: ro.as_bytes(),
                    read_only: true,
                    recursive: true,
                },
                ViewMount::Tmpfs {
                    destination: tmp.as_bytes(),
                    options: &options,
                },
            ] {
                mount_into(&r, &m)?;
            }
            let data = r.open_at(format!("{dest}/data").as_bytes(), OFlags::RDONLY)?;
            let text = std::fs::read_to_string(proc_fd(&data))?;
            let write = r.open_at(b"/ro/new", OFlags::WRONLY | OFlags::CREATE);
            let st = rustix::fs::fstatfs(&r.open_at(b"/scratch", OFlags::RDONLY)?)?;
            Ok((text, write.is_err(), st.f_type))
        })
        .unwrap();
        assert_eq!(seen.0, "volume");
        assert!(seen.1, "a read-only bind refuses writes");
        assert_eq!(seen.2 as i64, 0x0102_1994, "tmpfs magic");
        // Nothing was made in the host dir; the mounts are gone with the thread.
        assert_eq!(std::fs::read_dir(host.path()).unwrap().count(), 0);
        let inner = root
            .path()
            .join(host.path().strip_prefix("/").unwrap())
            .join("vol");
        assert!(inner.is_dir());
        assert_eq!(std::fs::read_dir(&inner).unwrap().count(), 0);
        assert_eq!(
            std::fs::read_dir(root.path().join("ro")).unwrap().count(),
            0
        );
    }

    #[test]
    fn a_panic_in_the_view_reaches_the_caller() {
        if !is_root() {
            return;
        }
        let caught = std::panic::catch_unwind(|| {
            let _ = in_private_mount_namespace(|| -> io::Result<()> { panic!("boom") });
        });
        assert!(caught.is_err());
    }
}
