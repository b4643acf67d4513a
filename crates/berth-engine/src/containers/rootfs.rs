//! File operations inside a container's root that can never escape it: every path is
//! resolved with `openat2(RESOLVE_IN_ROOT)`, so `..` and symlinks (absolute or relative)
//! stay inside the root, as the kernel would resolve them for the container itself.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::{openat2, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::Mode;

fn open_in(dir: &File, path: &Path, flags: OFlag) -> io::Result<OwnedFd> {
    let how = OpenHow::new()
        .flags(flags | OFlag::O_CLOEXEC)
        .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
    let fd = openat2(dir.as_fd().as_raw_fd(), path, how).map_err(io::Error::from)?;
    // SAFETY: openat2 returned a fresh descriptor that nothing else owns.
    #[allow(unsafe_code)]
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Reads a small file at `path` (absolute, as the container sees it) inside `root`.
pub fn read_file(root: &Path, path: &str, limit: u64) -> io::Result<Vec<u8>> {
    let dir = File::open(root)?;
    let fd = open_in(&dir, Path::new(path), OFlag::O_RDONLY)?;
    let mut out = Vec::new();
    File::from(fd).take(limit).read_to_end(&mut out)?;
    Ok(out)
}

/// Creates `path` and its missing parents inside `root` (like `mkdir -p`), owned by
/// `uid:gid` when newly made. An existing non-directory is an error.
pub fn mkdir_all(root: &Path, path: &str, uid: u32, gid: u32) -> io::Result<()> {
    berth_rootfs::Root::open(root)?
        .mkdir_all(path.as_bytes(), 0o755, Some((uid, gid)))
        .map(drop)
}

/// The host path `fd` names (the kernel's view, through /proc/self/fd).
fn fd_path(fd: &impl AsRawFd) -> io::Result<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// Where `path` (relative to `root`, resolved as inside it) really is on the host.
pub fn resolve(root: &Path, path: &str) -> io::Result<PathBuf> {
    let dir = File::open(root)?;
    let fd = open_in(&dir, Path::new(path), OFlag::O_PATH)?;
    fd_path(&fd)
}

/// Makes the mount point `dest` inside `root` (a directory, or an empty file for a file
/// bind) with missing parents, and returns the destination with every symlink resolved as
/// the container would resolve it (`berth_rootfs::Root::resolve`: absolute targets and `..`
/// stay inside the root; a link to a missing place gets that place made inside the root, as
/// Docker's securejoin + MkdirAll does). Mounting on the returned path lands inside the root.
pub fn make_mountpoint(root: &Path, dest: &str, is_file: bool) -> io::Result<String> {
    make_mountpoint_owned(root, dest, is_file, None)
}

/// [`make_mountpoint`] with what it creates owned by `owner` (`--userns-remap`'s root).
pub fn make_mountpoint_owned(
    root: &Path,
    dest: &str,
    is_file: bool,
    owner: Option<(u32, u32)>,
) -> io::Result<String> {
    let root = berth_rootfs::Root::open(root)?;
    let resolved = root.resolve(dest.as_bytes())?;
    if is_file {
        let (parent, name) = berth_rootfs::path::split_dir_entry(&resolved);
        let dir = root.mkdir_all(&parent, 0o755, owner)?;
        match nix::fcntl::openat(
            Some(dir.as_fd().as_raw_fd()),
            name.as_slice(),
            OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o755),
        ) {
            Ok(fd) => {
                // SAFETY: openat returned a fresh descriptor that nothing else owns.
                #[allow(unsafe_code)]
                let fd = unsafe { OwnedFd::from_raw_fd(fd) };
                if let Some((uid, gid)) = owner {
                    nix::unistd::fchown(
                        fd.as_raw_fd(),
                        Some(nix::unistd::Uid::from_raw(uid)),
                        Some(nix::unistd::Gid::from_raw(gid)),
                    )?;
                }
            }
            Err(nix::errno::Errno::EEXIST) => {}
            Err(e) => return Err(e.into()),
        }
    } else {
        root.mkdir_all(&resolved, 0o755, owner)?;
    }
    Ok(String::from_utf8_lossy(&resolved).into_owned())
}

/// Copies the directory at `src` (inside `root`) into the empty directory `dest` on the
/// host, keeping modes, owners, times and symlinks as they are (never followed), and gives
/// `dest` the source directory's owner and mode. Returns false when `src` is not a
/// directory (nothing to copy).
pub fn copy_dir_into(root: &Path, src: &str, dest: &Path) -> io::Result<bool> {
    let dir = File::open(root)?;
    let from = match open_in(&dir, Path::new(src), OFlag::O_DIRECTORY | OFlag::O_RDONLY) {
        Ok(fd) => File::from(fd),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => {
            return Ok(false)
        }
        Err(e) => return Err(e),
    };
    let to = File::open(dest)?;
    copy_tree(&from, &to)?;
    copy_attrs(&from, &to)?;
    Ok(true)
}

fn copy_attrs(from: &File, to: &File) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let md = from.metadata()?;
    nix::unistd::fchown(
        to.as_raw_fd(),
        Some(nix::unistd::Uid::from_raw(md.uid())),
        Some(nix::unistd::Gid::from_raw(md.gid())),
    )?;
    nix::sys::stat::fchmod(to.as_raw_fd(), Mode::from_bits_truncate(md.mode() & 0o7777))?;
    Ok(())
}

fn copy_tree(from: &File, to: &File) -> io::Result<()> {
    use nix::fcntl::AtFlags;
    use nix::sys::stat::{fstatat, SFlag};
    // Listing through our own descriptor's /proc link: the walk never re-resolves a path.
    for entry in std::fs::read_dir(format!("/proc/self/fd/{}", from.as_raw_fd()))? {
        let entry = entry?;
        let name = std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(
            entry.file_name().as_os_str(),
        ))
        .map_err(io::Error::other)?;
        let st = fstatat(
            Some(from.as_raw_fd()),
            name.as_c_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )?;
        let fmt = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits());
        let perm = Mode::from_bits_truncate(st.st_mode & 0o7777);
        let nofollow = OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
        if fmt == SFlag::S_IFDIR {
            nix::sys::stat::mkdirat(
                Some(to.as_raw_fd()),
                name.as_c_str(),
                Mode::from_bits_truncate(0o700),
            )?;
            let sub_from = open_at(
                from,
                name.as_c_str(),
                OFlag::O_DIRECTORY | OFlag::O_RDONLY | nofollow,
            )?;
            let sub_to = open_at(
                to,
                name.as_c_str(),
                OFlag::O_DIRECTORY | OFlag::O_RDONLY | nofollow,
            )?;
            copy_tree(&sub_from, &sub_to)?;
            copy_attrs(&sub_from, &sub_to)?;
            set_times(&sub_to, &st)?;
            continue;
        } else if fmt == SFlag::S_IFREG {
            let mut src = open_at(from, name.as_c_str(), OFlag::O_RDONLY | nofollow)?;
            let mut dst = open_at(
                to,
                name.as_c_str(),
                OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | nofollow,
            )?;
            io::copy(&mut src, &mut dst)?;
            copy_attrs(&src, &dst)?;
            set_times(&dst, &st)?;
            continue;
        } else if fmt == SFlag::S_IFLNK {
            let target = nix::fcntl::readlinkat(Some(from.as_raw_fd()), name.as_c_str())?;
            nix::unistd::symlinkat(target.as_os_str(), Some(to.as_raw_fd()), name.as_c_str())?;
        } else {
            // Devices, fifos and sockets: made again, never opened.
            nix::sys::stat::mknodat(Some(to.as_raw_fd()), name.as_c_str(), fmt, perm, st.st_rdev)?;
        }
        nix::unistd::fchownat(
            Some(to.as_raw_fd()),
            name.as_c_str(),
            Some(nix::unistd::Uid::from_raw(st.st_uid)),
            Some(nix::unistd::Gid::from_raw(st.st_gid)),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )?;
        if fmt != SFlag::S_IFLNK {
            nix::sys::stat::fchmodat(
                Some(to.as_raw_fd()),
                name.as_c_str(),
                perm,
                nix::sys::stat::FchmodatFlags::FollowSymlink,
            )?;
        }
    }
    Ok(())
}

fn open_at(dir: &File, name: &std::ffi::CStr, flags: OFlag) -> io::Result<File> {
    let fd = nix::fcntl::openat(
        Some(dir.as_raw_fd()),
        name,
        flags,
        Mode::from_bits_truncate(0o600),
    )?;
    // SAFETY: openat returned a fresh descriptor that nothing else owns.
    #[allow(unsafe_code)]
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

fn set_times(f: &File, st: &nix::sys::stat::FileStat) -> io::Result<()> {
    use nix::sys::time::TimeSpec;
    let atime = TimeSpec::new(st.st_atime, st.st_atime_nsec);
    let mtime = TimeSpec::new(st.st_mtime, st.st_mtime_nsec);
    nix::sys::stat::futimens(f.as_raw_fd(), &atime, &mtime)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_and_dotdot_resolve_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"host").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::fs::write(root.path().join("etc/passwd"), b"inside").unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("escape")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.path().join("abs")).unwrap();

        assert_eq!(read_file(root.path(), "/abs", 100).unwrap(), b"inside");
        assert_eq!(
            read_file(root.path(), "/../../etc/passwd", 100).unwrap(),
            b"inside"
        );
        assert!(read_file(root.path(), "/escape/secret", 100).is_err());
    }

    #[test]
    fn mkdir_all_creates_inside_and_never_through_a_link_out() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("link")).unwrap();
        mkdir_all(root.path(), "/a/b/c", 0, 0).unwrap();
        assert!(root.path().join("a/b/c").is_dir());
        // The link's absolute target is re-rooted: the directory lands inside the root.
        let _ = mkdir_all(root.path(), "/link/made", 0, 0);
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    }

    #[test]
    fn mountpoints_are_made_and_resolved_inside_the_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), root.path().join("esc")).unwrap();
        std::os::unix::fs::symlink("../../..", root.path().join("up")).unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::os::unix::fs::symlink("/etc", root.path().join("etclink")).unwrap();

        assert_eq!(make_mountpoint(root.path(), "/a/b", false).unwrap(), "/a/b");
        assert!(root.path().join("a/b").is_dir());
        // A relative link climbing out lands on the root itself.
        assert_eq!(
            make_mountpoint(root.path(), "/up/sub", false).unwrap(),
            "/sub"
        );
        // An absolute link is re-rooted: the resolved destination is the inside one.
        assert_eq!(
            make_mountpoint(root.path(), "/etclink/conf", true).unwrap(),
            "/etc/conf"
        );
        assert!(root.path().join("etc/conf").is_file());
        // A link to a host directory never makes anything there: its target is made
        // inside the root instead.
        let inside = make_mountpoint(root.path(), "/esc/x", false).unwrap();
        assert_eq!(inside, format!("{}/x", outside.path().display()));
        assert!(root.path().join(inside.trim_start_matches('/')).is_dir());
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
        // Link loops end with ELOOP instead of spinning.
        std::os::unix::fs::symlink("/loop", root.path().join("loop")).unwrap();
        assert!(make_mountpoint(root.path(), "/loop/x", false).is_err());
    }

    #[test]
    fn copy_dir_into_keeps_links_and_modes_and_never_follows() {
        use std::os::unix::fs::PermissionsExt;
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"host").unwrap();
        let root = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::write(data.join("sub/f"), b"content").unwrap();
        std::fs::set_permissions(data.join("sub/f"), std::fs::Permissions::from_mode(0o640))
            .unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), data.join("link")).unwrap();
        let vol = tempfile::tempdir().unwrap();

        assert!(copy_dir_into(root.path(), "/data", vol.path()).unwrap());
        assert_eq!(std::fs::read(vol.path().join("sub/f")).unwrap(), b"content");
        let mode = std::fs::metadata(vol.path().join("sub/f"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
        assert_eq!(
            std::fs::read_link(vol.path().join("link")).unwrap(),
            outside.path().join("secret")
        );
        assert!(!copy_dir_into(root.path(), "/missing", vol.path()).unwrap());
    }
}
