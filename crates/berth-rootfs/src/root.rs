//! [`Root`]: a directory file descriptor under which every path is resolved by the kernel
//! with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`. `..` and symlinks (absolute or
//! relative, or swapped in while we work) resolve as they would for a process chrooted
//! there, so nothing reached through a `Root` is ever outside it.
//!
//! Only the *parents* of a path are resolved that way; the last component is then used
//! with a `*at` call on the parent's descriptor that does not follow it (`O_NOFOLLOW`,
//! `AT_SYMLINK_NOFOLLOW`, `O_EXCL`), so a final symlink is never followed to the host.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use rustix::fs::{
    chownat, mkdirat, openat2, readlinkat, statat, AtFlags, FileType, Gid, Mode, OFlags,
    ResolveFlags, Stat, Uid,
};
use rustix::io::Errno;

use crate::path;

/// How many times a resolution that raced a rename (`EAGAIN`) is retried.
const RETRIES: usize = 64;

/// Symlinks followed at most while resolving a path by hand (the kernel's own limit is 40;
/// Go's `FollowSymlinkInScope` allows 255).
const MAX_LINKS: usize = 255;

/// A directory that bounds every path resolved through it.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
}

pub(crate) fn io_err(e: Errno) -> io::Error {
    e.into()
}

/// `path` relative to the root (leading slashes dropped; the root itself is `.`), with a
/// trailing `/` or `/.` kept, since the kernel gives them their meaning (follow, directory).
fn relative(path: &[u8]) -> &[u8] {
    let start = path.iter().position(|b| *b != b'/').unwrap_or(path.len());
    if start == path.len() {
        b"."
    } else {
        &path[start..]
    }
}

impl Root {
    /// Opens the directory at `path`, a host path the caller trusts (the daemon's own mount
    /// point of a container root, a tempdir in tests).
    pub fn open(path: impl AsRef<Path>) -> io::Result<Self> {
        let fd = rustix::fs::open(
            path.as_ref(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Self { fd })
    }

    /// Wraps a directory descriptor.
    pub fn from_fd(fd: OwnedFd) -> Self {
        Self { fd }
    }

    pub fn try_clone(&self) -> io::Result<Self> {
        Ok(Self {
            fd: self.fd.try_clone()?,
        })
    }

    /// Opens `path` (absolute or not, both taken from the root) with `flags`; add
    /// `O_NOFOLLOW` to get the final symlink itself.
    pub fn open_at(&self, path: &[u8], flags: OFlags) -> io::Result<OwnedFd> {
        let rel = relative(path);
        let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
        let mut tries = 0;
        loop {
            match openat2(
                &self.fd,
                rel,
                flags | OFlags::CLOEXEC,
                Mode::empty(),
                resolve,
            ) {
                // A `..` raced a rename; the kernel asks us to try again.
                Err(Errno::AGAIN) if tries < RETRIES => tries += 1,
                other => return other.map_err(io_err),
            }
        }
    }

    /// A directory inside the root (following symlinks inside it), as a new root: paths
    /// through it may not leave *it*.
    pub fn sub_root(&self, path: &[u8]) -> io::Result<Root> {
        let fd = self.open_at(path, OFlags::RDONLY | OFlags::DIRECTORY)?;
        Ok(Root { fd })
    }

    /// The parent directory of `path` (resolved in the root, as an `O_PATH` descriptor)
    /// and the last component, or `None` for the root itself. The path is cleaned first,
    /// so a trailing `/` or `/.` does not count.
    pub fn parent(&self, path: &[u8]) -> io::Result<(OwnedFd, Option<Vec<u8>>)> {
        let cleaned = path::clean(&[b"/", path].concat());
        if cleaned == b"/" {
            return Ok((self.open_at(b"/", OFlags::PATH | OFlags::DIRECTORY)?, None));
        }
        let dir = path::dir(&cleaned);
        let name = path::base(&cleaned).to_vec();
        Ok((
            self.open_at(&dir, OFlags::PATH | OFlags::DIRECTORY)?,
            Some(name),
        ))
    }

    /// `lstat`: the final component is not followed, unless a trailing `/` or `/.` asks for
    /// it (as the kernel does).
    pub fn lstat(&self, path: &[u8]) -> io::Result<Stat> {
        let fd = self.open_at(path, OFlags::PATH | OFlags::NOFOLLOW)?;
        fstat_path(&fd)
    }

    /// `stat`: symlinks followed (inside the root).
    pub fn stat(&self, path: &[u8]) -> io::Result<Stat> {
        let fd = self.open_at(path, OFlags::PATH)?;
        fstat_path(&fd)
    }

    /// The target of the symlink at `path`.
    pub fn readlink(&self, path: &[u8]) -> io::Result<Vec<u8>> {
        let fd = self.open_at(path, OFlags::PATH | OFlags::NOFOLLOW)?;
        Ok(readlinkat(&fd, "", Vec::new())?.into_bytes())
    }

    /// moby's `FollowSymlinkInScope(path, "/")`: `path` with every symlink resolved inside
    /// the root, as a clean absolute path; a missing tail is kept as written (a dangling
    /// link resolves as far as it goes). Used to report, never to reach, a file.
    pub fn resolve(&self, path: &[u8]) -> io::Result<Vec<u8>> {
        let mut done: Vec<Vec<u8>> = Vec::new();
        let mut todo: std::collections::VecDeque<Vec<u8>> = components(path).collect();
        let mut links = 0;
        while let Some(comp) = todo.pop_front() {
            if comp == b"." {
                continue;
            }
            if comp == b".." {
                done.pop();
                continue;
            }
            let mut candidate = join_abs(&done);
            if candidate != b"/" {
                candidate.push(b'/');
            }
            candidate.extend_from_slice(&comp);
            let st = match self.lstat(&candidate) {
                Ok(st) => st,
                Err(e) if is_missing(&e) => {
                    done.push(comp);
                    continue;
                }
                Err(e) => return Err(e),
            };
            if FileType::from_raw_mode(st.st_mode) != FileType::Symlink {
                done.push(comp);
                continue;
            }
            links += 1;
            if links > MAX_LINKS {
                return Err(io_err(Errno::LOOP));
            }
            let target = self.readlink(&candidate)?;
            if target.first() == Some(&b'/') {
                done.clear();
            }
            for (i, c) in components(&target).enumerate() {
                todo.insert(i, c);
            }
        }
        Ok(join_abs(&done))
    }

    /// `mkdir -p` inside the root: each missing directory is made with `mode` (and owned
    /// by `owner` when given) under its parent's descriptor. Returns the directory, opened.
    pub fn mkdir_all(&self, path: &[u8], mode: u32, owner: Option<(u32, u32)>) -> io::Result<Root> {
        let comps: Vec<Vec<u8>> = components(&path::clean(&[b"/", path].concat())).collect();
        let mut prefix = b"/".to_vec();
        for (i, comp) in comps.iter().enumerate() {
            let parent = prefix.clone();
            if i > 0 {
                prefix.push(b'/');
            }
            prefix.extend_from_slice(comp);
            match self.open_at(&prefix, OFlags::PATH | OFlags::DIRECTORY) {
                Ok(_) => continue,
                Err(e) if is_missing(&e) => {}
                Err(e) => return Err(e),
            }
            let dir = self.open_at(&parent, OFlags::PATH | OFlags::DIRECTORY)?;
            match mkdirat(&dir, comp.as_slice(), Mode::from_raw_mode(mode)) {
                Ok(()) => {
                    if let Some((uid, gid)) = owner {
                        chownat(
                            &dir,
                            comp.as_slice(),
                            Some(Uid::from_raw(uid)),
                            Some(Gid::from_raw(gid)),
                            AtFlags::SYMLINK_NOFOLLOW,
                        )?;
                    }
                }
                Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.sub_root(&prefix)
    }
}

impl AsFd for Root {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// ENOENT or ENOTDIR: nothing is there.
pub fn is_missing(e: &io::Error) -> bool {
    e.raw_os_error() == Some(Errno::NOENT.raw_os_error())
        || e.raw_os_error() == Some(Errno::NOTDIR.raw_os_error())
}

/// `fstat` that also works on `O_PATH` descriptors (of symlinks too).
pub(crate) fn fstat_path(fd: &OwnedFd) -> io::Result<Stat> {
    Ok(statat(
        fd,
        "",
        AtFlags::EMPTY_PATH | AtFlags::SYMLINK_NOFOLLOW,
    )?)
}

fn components(path: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    path.split(|b| *b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
}

fn join_abs(parts: &[Vec<u8>]) -> Vec<u8> {
    [b"/".as_slice(), &parts.join(&b'/')].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A root holding symlinks that point out of it in every way, next to a host file.
    fn hostile() -> (tempfile::TempDir, tempfile::TempDir) {
        let host = tempfile::tempdir().unwrap();
        std::fs::write(host.path().join("secret"), b"host").unwrap();
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("etc/sub")).unwrap();
        std::fs::write(r.join("etc/secret"), b"inside").unwrap();
        symlink("/", r.join("escape")).unwrap();
        symlink(host.path(), r.join("hostdir")).unwrap();
        symlink("../../../../../..", r.join("etc/sub/up")).unwrap();
        symlink("/etc", r.join("abs")).unwrap();
        symlink("loop2", r.join("loop1")).unwrap();
        symlink("loop1", r.join("loop2")).unwrap();
        (host, root)
    }

    #[test]
    fn escapes_resolve_inside_the_root() {
        let (host, root) = hostile();
        let r = Root::open(root.path()).unwrap();
        let read = |p: &str| {
            let fd = r.open_at(p.as_bytes(), OFlags::RDONLY).unwrap();
            std::fs::read_to_string(format!("/proc/self/fd/{}", {
                use std::os::fd::AsRawFd;
                fd.as_raw_fd()
            }))
            .unwrap()
        };
        assert_eq!(read("/escape/etc/secret"), "inside");
        assert_eq!(read("/etc/sub/up/etc/secret"), "inside");
        assert_eq!(read("/../../../etc/secret"), "inside");
        assert_eq!(read("abs/secret"), "inside");
        // The host dir's absolute path, re-rooted, does not exist inside.
        assert!(r.open_at(b"/hostdir/secret", OFlags::RDONLY).is_err());
        let through = format!("/escape{}/secret", host.path().display());
        assert!(r.open_at(through.as_bytes(), OFlags::RDONLY).is_err());
        assert!(r.open_at(b"/loop1", OFlags::RDONLY).is_err());
    }

    #[test]
    fn lstat_keeps_the_final_link_unless_a_slash_follows() {
        let (_host, root) = hostile();
        let r = Root::open(root.path()).unwrap();
        let kind = |st: Stat| FileType::from_raw_mode(st.st_mode);
        assert_eq!(kind(r.lstat(b"/abs").unwrap()), FileType::Symlink);
        assert_eq!(kind(r.lstat(b"/abs/").unwrap()), FileType::Directory);
        assert_eq!(kind(r.lstat(b"/abs/.").unwrap()), FileType::Directory);
        assert_eq!(kind(r.stat(b"/abs").unwrap()), FileType::Directory);
        assert_eq!(r.readlink(b"/escape").unwrap(), b"/");
    }

    #[test]
    fn resolve_reports_paths_inside_the_root() {
        let (_host, root) = hostile();
        let r = Root::open(root.path()).unwrap();
        assert_eq!(r.resolve(b"/abs").unwrap(), b"/etc");
        assert_eq!(r.resolve(b"/escape").unwrap(), b"/");
        assert_eq!(
            r.resolve(b"/etc/sub/up/abs/secret").unwrap(),
            b"/etc/secret"
        );
        assert_eq!(r.resolve(b"/abs/missing/x").unwrap(), b"/etc/missing/x");
        assert!(r.resolve(b"/loop1").is_err());
    }

    #[test]
    fn mkdir_all_never_creates_through_a_link_out() {
        let (host, root) = hostile();
        let r = Root::open(root.path()).unwrap();
        let made = r.mkdir_all(b"/escape/made/deep", 0o755, None).unwrap();
        drop(made);
        assert!(root.path().join("made/deep").is_dir());
        // A link to a host directory dangles inside the root: refused, nothing made.
        assert!(r.mkdir_all(b"/hostdir/x", 0o755, None).is_err());
        assert!(!host.path().join("x").exists());
        let names: Vec<_> = std::fs::read_dir(host.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the secret stays in the host dir");
    }

    #[test]
    fn parent_splits_off_the_last_component() {
        let (_host, root) = hostile();
        let r = Root::open(root.path()).unwrap();
        let (_, name) = r.parent(b"/etc/secret/").unwrap();
        assert_eq!(name.unwrap(), b"secret");
        let (_, name) = r.parent(b"/").unwrap();
        assert!(name.is_none());
    }
}
