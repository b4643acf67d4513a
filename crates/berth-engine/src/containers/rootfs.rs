//! File operations inside a container's root that can never escape it: every path is
//! resolved with `openat2(RESOLVE_IN_ROOT)`, so `..` and symlinks (absolute or relative)
//! stay inside the root, as the kernel would resolve them for the container itself.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

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
    let mut current = File::open(root)?;
    for comp in path.split('/').filter(|c| !c.is_empty() && *c != ".") {
        let how_flags = OFlag::O_DIRECTORY | OFlag::O_RDONLY;
        match open_in(&current, Path::new(comp), how_flags) {
            Ok(fd) => current = File::from(fd),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                match nix::sys::stat::mkdirat(
                    Some(current.as_fd().as_raw_fd()),
                    comp,
                    Mode::from_bits_truncate(0o755),
                ) {
                    Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
                    Err(e) => return Err(e.into()),
                }
                let fd = open_in(&current, Path::new(comp), how_flags)?;
                nix::unistd::fchown(
                    fd.as_raw_fd(),
                    Some(nix::unistd::Uid::from_raw(uid)),
                    Some(nix::unistd::Gid::from_raw(gid)),
                )?;
                current = File::from(fd);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
                return Err(io::Error::other(format!("mkdir {path}: not a directory")))
            }
            Err(e) => return Err(e),
        }
    }
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
}
