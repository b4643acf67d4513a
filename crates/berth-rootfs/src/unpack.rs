//! Tar into a directory, as `PUT /containers/{id}/archive` and `docker cp` to the local
//! side extract (go-archive's `Unpack`): entry names are cleaned and may not climb out,
//! the directory is the root every entry's parents resolve in, existing files are
//! replaced (directories merged), and metadata is applied without following symlinks.
//!
//! Creation never follows the final component: regular files are created with `O_EXCL |
//! O_NOFOLLOW`, everything else with `*at` calls on the parent's descriptor, and owner,
//! mode and times are set on a descriptor of what was created. A container that swaps a
//! path for a symlink mid-extraction makes an entry fail, never lands a write outside.

use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use berth_core::IdMapping;
use rustix::fs::{
    chownat, fchmod, fchown, futimens, linkat, mkdirat, mknodat, openat, symlinkat, unlinkat,
    utimensat, AtFlags, FileType, Gid, Mode, OFlags, Timespec, Timestamps, Uid, XattrFlags,
};
use rustix::io::Errno;
use tar::EntryType;

use crate::path;
use crate::root::{fstat_path, io_err, is_missing, Root};

/// How an archive is extracted.
#[derive(Debug, Clone, Default)]
pub struct UnpackOptions {
    /// Refuse to replace a directory with a non-directory or the reverse
    /// (`noOverwriteDirNonDir`).
    pub no_overwrite_dir_non_dir: bool,
    /// Owner of every entry: `Some` forces one (`copyUIDGID` with a container user),
    /// `None` keeps the archive's.
    pub owner: Option<(u32, u32)>,
    /// Leave ownership alone (the CLI extracting as whoever runs it: go-archive `NoLchown`).
    pub no_chown: bool,
    /// The archive's owners are container IDs: shift them to host IDs with this mapping
    /// (`--userns-remap`, go-archive's `IDMap`); implied parent directories belong to the
    /// mapping's root. An owner outside the mapping fails the entry.
    pub ids: IdMapping,
    /// Renames applied in order to every entry name (and hard-link target) before anything
    /// else: the first occurrence of `.0` becomes `.1` (moby's `RebaseArchiveEntries`).
    pub rebase: Vec<(Vec<u8>, Vec<u8>)>,
    /// The directory as the user named it, for error messages.
    pub dest_display: String,
}

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("invalid entry name {0:?}")]
    Breakout(String),
    #[error("cannot overwrite directory {0:?} with non-directory {1:?}")]
    DirWithNonDir(String, String),
    #[error("cannot overwrite non-directory {0:?} with directory {1:?}")]
    NonDirWithDir(String, String),
    #[error("unhandled tar header type {0}")]
    UnknownType(u8),
    #[error(transparent)]
    IdMap(#[from] berth_core::IdMapError),
    #[error("{op} {name}: {source}")]
    Io {
        op: &'static str,
        name: String,
        #[source]
        source: io::Error,
    },
}

impl UnpackError {
    /// The underlying I/O error, if that is what this is.
    pub fn io(&self) -> Option<&io::Error> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

fn ctx<T>(op: &'static str, name: &[u8], r: io::Result<T>) -> Result<T, UnpackError> {
    r.map_err(|source| UnpackError::Io {
        op,
        name: String::from_utf8_lossy(name).into_owned(),
        source,
    })
}

/// Extracts the (uncompressed) tar `archive` into `dest`, a directory opened as a root.
pub fn unpack(dest: &Root, archive: impl Read, opts: &UnpackOptions) -> Result<(), UnpackError> {
    let mut ar = tar::Archive::new(archive);
    let mut dirs: Vec<(Vec<u8>, i64)> = Vec::new();
    for entry in ctx("read", b"archive", ar.entries())? {
        let mut entry = ctx("read", b"archive", entry)?;
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            continue;
        }
        let raw = entry.path_bytes().into_owned();
        let raw = rebased(&raw, opts);
        let Some(name) = path::local_entry_name(&raw) else {
            return Err(UnpackError::Breakout(
                String::from_utf8_lossy(&raw).into_owned(),
            ));
        };
        if name == b"." {
            continue;
        }
        let mtime = create(dest, &name, &mut entry, opts)?;
        if kind == EntryType::Directory {
            dirs.push((name, mtime));
        }
    }
    // Directory times last: extracting into them changed their mtime.
    for (name, mtime) in dirs {
        let fd = ctx(
            "open",
            &name,
            dest.open_at(&name, OFlags::PATH | OFlags::NOFOLLOW | OFlags::DIRECTORY),
        )?;
        ctx("utimes", &name, set_times_path(&fd, mtime))?;
    }
    Ok(())
}

/// The owner of parent directories the archive implies but does not hold.
fn implied_owner(opts: &UnpackOptions) -> Option<(u32, u32)> {
    match opts.owner {
        Some(o) => Some(o),
        None if !opts.ids.is_empty() && !opts.no_chown => Some(opts.ids.root_pair()),
        None => None,
    }
}

fn rebased(raw: &[u8], opts: &UnpackOptions) -> Vec<u8> {
    opts.rebase.iter().fold(raw.to_vec(), |name, (old, new)| {
        path::replace_first(&name, old, new)
    })
}

/// Creates one entry; returns its mtime.
fn create<R: Read>(
    dest: &Root,
    name: &[u8],
    entry: &mut tar::Entry<'_, R>,
    opts: &UnpackOptions,
) -> Result<i64, UnpackError> {
    let h = entry.header().clone();
    let kind = h.entry_type();
    // Everything read from the entry comes first: nothing is removed for an entry that
    // turns out unreadable. Empty numeric fields read as 0, as Go's reader has them.
    let pax = pax_records(entry);
    let number = |key: &str, field: io::Result<u64>| {
        pax.iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| std::str::from_utf8(v).ok()?.split('.').next()?.parse().ok())
            .unwrap_or_else(|| field.unwrap_or(0))
    };
    let mode = h.mode().unwrap_or(0) & 0o7777;
    let mtime = number("mtime", h.mtime()) as i64;
    let owner = if opts.no_chown {
        None
    } else if let Some(forced) = opts.owner {
        Some(forced)
    } else {
        let (uid, gid) = (number("uid", h.uid()) as u32, number("gid", h.gid()) as u32);
        Some(opts.ids.to_host(uid, gid)?)
    };
    let xattrs: Vec<(String, Vec<u8>)> = pax
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("SCHILY.xattr.")?.to_owned(), v.clone())))
        .collect();
    let hard_target = if kind == EntryType::Link {
        let raw = entry
            .link_name_bytes()
            .map(|l| l.into_owned())
            .unwrap_or_default();
        let raw = rebased(&raw, opts);
        match path::local_entry_name(&raw) {
            Some(t) if t != b"." => Some(t),
            _ => {
                return Err(UnpackError::Breakout(
                    String::from_utf8_lossy(&raw).into_owned(),
                ))
            }
        }
    } else {
        None
    };
    let supported = matches!(
        kind,
        EntryType::Directory
            | EntryType::Regular
            | EntryType::Continuous
            | EntryType::Symlink
            | EntryType::Link
            | EntryType::Char
            | EntryType::Block
            | EntryType::Fifo
    );
    if !supported {
        return Err(UnpackError::UnknownType(kind.as_byte()));
    }
    let parent_path = path::dir(&[b"/", name].concat());
    // Implied parents, made inside the root.
    let parent = match dest.open_at(&parent_path, OFlags::PATH | OFlags::DIRECTORY) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(Errno::NOENT.raw_os_error()) => {
            ctx(
                "mkdir",
                &parent_path,
                dest.mkdir_all(&parent_path, 0o755, implied_owner(opts)),
            )?;
            let flags = OFlags::PATH | OFlags::DIRECTORY;
            ctx("open", &parent_path, dest.open_at(&parent_path, flags))?
        }
        Err(e) => return ctx("open", &parent_path, Err(e)),
    };
    let base = path::base(name).to_vec();

    // What is there already: replaced, unless both are directories (merged).
    if let Ok(existing) = rustix::fs::statat(&parent, base.as_slice(), AtFlags::SYMLINK_NOFOLLOW) {
        let is_dir = FileType::from_raw_mode(existing.st_mode) == FileType::Directory;
        let show = || String::from_utf8_lossy(name).into_owned();
        if opts.no_overwrite_dir_non_dir && is_dir && kind != EntryType::Directory {
            return Err(UnpackError::DirWithNonDir(
                show(),
                opts.dest_display.clone(),
            ));
        }
        if opts.no_overwrite_dir_non_dir && !is_dir && kind == EntryType::Directory {
            return Err(UnpackError::NonDirWithDir(
                show(),
                opts.dest_display.clone(),
            ));
        }
        if !(is_dir && kind == EntryType::Directory) {
            ctx("remove", name, remove_all(&parent, &base))?;
        }
    }

    match kind {
        EntryType::Directory => {
            match mkdirat(&parent, base.as_slice(), Mode::from_raw_mode(mode & 0o777)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return ctx("mkdir", name, Err(e.into())),
            }
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = ctx(
                "open",
                name,
                openat(&parent, base.as_slice(), flags, Mode::empty()).map_err(io_err),
            )?;
            ctx("chown", name, owner.map_or(Ok(()), |o| chown_fd(&fd, o)))?;
            set_xattrs(&fd, &xattrs);
            ctx(
                "chmod",
                name,
                fchmod(&fd, Mode::from_raw_mode(mode)).map_err(io_err),
            )?;
        }
        EntryType::Regular | EntryType::Continuous => {
            let flags =
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = ctx(
                "create",
                name,
                openat(
                    &parent,
                    base.as_slice(),
                    flags,
                    Mode::from_raw_mode(mode & 0o777),
                )
                .map_err(io_err),
            )?;
            let mut file = std::fs::File::from(fd);
            ctx("write", name, io::copy(entry, &mut file))?;
            let fd = OwnedFd::from(file);
            ctx("chown", name, owner.map_or(Ok(()), |o| chown_fd(&fd, o)))?;
            set_xattrs(&fd, &xattrs);
            ctx(
                "chmod",
                name,
                fchmod(&fd, Mode::from_raw_mode(mode)).map_err(io_err),
            )?;
            ctx("utimes", name, futimens(&fd, &times(mtime)).map_err(io_err))?;
        }
        EntryType::Symlink => {
            let target = entry
                .link_name_bytes()
                .map(|l| l.into_owned())
                .unwrap_or_default();
            ctx(
                "symlink",
                name,
                symlinkat(target.as_slice(), &parent, base.as_slice()).map_err(io_err),
            )?;
            if let Some((uid, gid)) = owner {
                let r = chownat(
                    &parent,
                    base.as_slice(),
                    Some(Uid::from_raw(uid)),
                    Some(Gid::from_raw(gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                );
                ctx("lchown", name, r.map_err(io_err))?;
            }
            let r = utimensat(
                &parent,
                base.as_slice(),
                &times(mtime),
                AtFlags::SYMLINK_NOFOLLOW,
            );
            ctx("utimes", name, r.map_err(io_err))?;
        }
        EntryType::Link => {
            let target = hard_target.unwrap_or_default();
            let (tparent, tname) = ctx("open", &target, dest.parent(&target))?;
            let tname = tname.unwrap_or_default();
            // linkat without AT_SYMLINK_FOLLOW links a symlink itself, never its target.
            let r = linkat(
                &tparent,
                tname.as_slice(),
                &parent,
                base.as_slice(),
                AtFlags::empty(),
            );
            ctx("link", name, r.map_err(io_err))?;
        }
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            let file_type = match kind {
                EntryType::Char => FileType::CharacterDevice,
                EntryType::Block => FileType::BlockDevice,
                _ => FileType::Fifo,
            };
            let major = h.device_major().ok().flatten().unwrap_or(0);
            let minor = h.device_minor().ok().flatten().unwrap_or(0);
            let dev = rustix::fs::makedev(major, minor);
            let r = mknodat(
                &parent,
                base.as_slice(),
                file_type,
                Mode::from_raw_mode(mode & 0o777),
                dev,
            );
            ctx("mknod", name, r.map_err(io_err))?;
            let fd = ctx(
                "open",
                name,
                openat(
                    &parent,
                    base.as_slice(),
                    OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(io_err),
            )?;
            // Only what we made gets its metadata (a swap in between is left alone).
            let st = ctx("stat", name, fstat_path(&fd))?;
            if FileType::from_raw_mode(st.st_mode) == file_type {
                if let Some(o) = owner {
                    ctx("chown", name, chown_path_fd(&fd, o))?;
                }
                ctx("chmod", name, chmod_path_fd(&fd, mode))?;
                ctx("utimes", name, set_times_path(&fd, mtime))?;
            }
        }
        other => return Err(UnpackError::UnknownType(other.as_byte())),
    }
    Ok(mtime)
}

fn times(mtime: i64) -> Timestamps {
    let t = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

fn chown_fd(fd: &OwnedFd, (uid, gid): (u32, u32)) -> io::Result<()> {
    fchown(fd, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))).map_err(io_err)
}

/// chown of an `O_PATH` descriptor (no path, never followed).
fn chown_path_fd(fd: &OwnedFd, (uid, gid): (u32, u32)) -> io::Result<()> {
    chownat(
        fd,
        "",
        Some(Uid::from_raw(uid)),
        Some(Gid::from_raw(gid)),
        AtFlags::EMPTY_PATH,
    )
    .map_err(io_err)
}

/// chmod of an `O_PATH` descriptor, through its magic link (the inode we hold, nothing
/// a path could redirect).
fn chmod_path_fd(fd: &OwnedFd, mode: u32) -> io::Result<()> {
    let proc_path = format!("/proc/self/fd/{}", fd.as_raw_fd());
    rustix::fs::chmod(proc_path.as_str(), Mode::from_raw_mode(mode)).map_err(io_err)
}

fn set_times_path(fd: &OwnedFd, mtime: i64) -> io::Result<()> {
    utimensat(fd, "", &times(mtime), AtFlags::EMPTY_PATH).map_err(io_err)
}

/// The PAX records of an entry (key, value).
fn pax_records<R: Read>(entry: &mut tar::Entry<'_, R>) -> Vec<(String, Vec<u8>)> {
    let Ok(Some(exts)) = entry.pax_extensions() else {
        return Vec::new();
    };
    exts.filter_map(Result::ok)
        .filter_map(|e| Some((e.key().ok()?.to_owned(), e.value_bytes().to_vec())))
        .collect()
}

/// Applies xattrs; a filesystem or a kernel that refuses them is not fatal (moby skips
/// ENOTSUP and EPERM too).
fn set_xattrs(fd: &OwnedFd, xattrs: &[(String, Vec<u8>)]) {
    for (key, value) in xattrs {
        if let Err(e) = rustix::fs::fsetxattr(fd, key.as_str(), value, XattrFlags::empty()) {
            tracing::debug!(xattr = %key, error = %e, "xattr not applied");
        }
    }
}

/// Removes `name` in `parent` and, for a directory, everything below it, by descriptor.
pub fn remove_all(parent: &impl AsFd, name: &[u8]) -> io::Result<()> {
    let st = match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
        return match unlinkat(parent, name, AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(e.into()),
        };
    }
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let dir = match openat(parent, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(e) if is_missing(&e.into()) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut children = Vec::new();
    for entry in rustix::fs::Dir::read_from(&dir)? {
        let entry = entry?;
        let n = entry.file_name().to_bytes();
        if n != b"." && n != b".." {
            children.push(n.to_vec());
        }
    }
    for child in children {
        remove_all(&dir, &child)?;
    }
    match unlinkat(parent, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    fn tar_of(entries: &[(&str, EntryType, &[u8], &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o640);
            h.set_uid(1234);
            h.set_gid(5678);
            h.set_mtime(1_000_000_000);
            h.set_size(data.len() as u64);
            // Raw names: the archive may be hostile, so no validation on the way in.
            let old = h.as_old_mut();
            old.name[..name.len()].copy_from_slice(name.as_bytes());
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn sandbox() -> (tempfile::TempDir, tempfile::TempDir) {
        let host = tempfile::tempdir().unwrap();
        std::fs::write(host.path().join("secret"), b"host").unwrap();
        let root = tempfile::tempdir().unwrap();
        symlink("/", root.path().join("escape")).unwrap();
        symlink(host.path(), root.path().join("hostdir")).unwrap();
        symlink(host.path().join("secret"), root.path().join("hostfile")).unwrap();
        std::fs::create_dir(root.path().join("dir")).unwrap();
        (host, root)
    }

    fn host_untouched(host: &tempfile::TempDir) {
        let names: Vec<_> = std::fs::read_dir(host.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secret"]);
        assert_eq!(std::fs::read(host.path().join("secret")).unwrap(), b"host");
        let meta = std::fs::metadata(host.path().join("secret")).unwrap();
        assert_ne!(meta.uid(), 1234);
        assert_ne!(meta.permissions().mode() & 0o777, 0o640);
    }

    #[test]
    fn files_dirs_links_and_metadata_land_inside() {
        let (host, root) = sandbox();
        let r = Root::open(root.path()).unwrap();
        let data = tar_of(&[
            ("top/", EntryType::Directory, b"", ""),
            ("top/f", EntryType::Regular, b"hello", ""),
            ("top/l", EntryType::Symlink, b"", "/etc/passwd"),
            ("top/h", EntryType::Link, b"", "top/f"),
            ("implied/deep/f", EntryType::Regular, b"x", ""),
        ]);
        unpack(&r, &data[..], &UnpackOptions::default()).unwrap();
        let p = root.path();
        assert_eq!(std::fs::read(p.join("top/f")).unwrap(), b"hello");
        let meta = std::fs::metadata(p.join("top/f")).unwrap();
        assert_eq!(
            (meta.uid(), meta.gid(), meta.mode() & 0o777),
            (1234, 5678, 0o640)
        );
        assert_eq!(meta.mtime(), 1_000_000_000);
        assert_eq!(meta.nlink(), 2);
        assert_eq!(
            std::fs::read_link(p.join("top/l")).unwrap().to_str(),
            Some("/etc/passwd")
        );
        assert_eq!(
            std::fs::metadata(p.join("top")).unwrap().mtime(),
            1_000_000_000
        );
        assert!(p.join("implied/deep/f").is_file());
        host_untouched(&host);
    }

    #[test]
    fn hostile_names_and_links_never_reach_the_host() {
        let (host, root) = sandbox();
        let r = Root::open(root.path()).unwrap();
        let secret = host.path().join("secret");
        let secret = secret.to_str().unwrap().trim_start_matches('/');
        // Through symlinks to / and to the host dir: re-rooted inside.
        let through_escape = format!("escape/{secret}");
        let data = tar_of(&[
            (&through_escape, EntryType::Regular, b"pwned", ""),
            ("hostdir/new", EntryType::Regular, b"pwned", ""),
            // Replacing a symlink to a host file replaces the link, not the file.
            ("hostfile", EntryType::Regular, b"pwned", ""),
        ]);
        unpack(&r, &data[..], &UnpackOptions::default()).unwrap();
        host_untouched(&host);
        assert_eq!(std::fs::read(root.path().join(secret)).unwrap(), b"pwned");
        assert_eq!(
            std::fs::read(root.path().join("hostfile")).unwrap(),
            b"pwned"
        );

        for bad in ["../x", "dir/../../x"] {
            let data = tar_of(&[(bad, EntryType::Regular, b"x", "")]);
            let e = unpack(&r, &data[..], &UnpackOptions::default()).unwrap_err();
            assert!(matches!(e, UnpackError::Breakout(_)), "{bad}: {e}");
        }
        let data = tar_of(&[("hl", EntryType::Link, b"", "../../etc/passwd")]);
        assert!(matches!(
            unpack(&r, &data[..], &UnpackOptions::default()).unwrap_err(),
            UnpackError::Breakout(_)
        ));
        // A hard link "to" a symlink pointing out links the symlink itself.
        let data = tar_of(&[("hl", EntryType::Link, b"", "hostfile")]);
        unpack(&r, &data[..], &UnpackOptions::default()).unwrap();
        host_untouched(&host);
    }

    #[test]
    fn dir_non_dir_overwrites_follow_the_option() {
        let (_host, root) = sandbox();
        let r = Root::open(root.path()).unwrap();
        let strict = UnpackOptions {
            no_overwrite_dir_non_dir: true,
            ..Default::default()
        };
        let file_over_dir = tar_of(&[("dir", EntryType::Regular, b"x", "")]);
        let e = unpack(&r, &file_over_dir[..], &strict).unwrap_err();
        assert!(matches!(e, UnpackError::DirWithNonDir(..)), "{e}");
        unpack(&r, &file_over_dir[..], &UnpackOptions::default()).unwrap();
        assert!(root.path().join("dir").is_file());
        let dir_over_file = tar_of(&[("dir/", EntryType::Directory, b"", "")]);
        let e = unpack(&r, &dir_over_file[..], &strict).unwrap_err();
        assert!(matches!(e, UnpackError::NonDirWithDir(..)), "{e}");
    }

    #[test]
    fn a_refused_entry_removes_nothing_and_empty_numbers_read_as_zero() {
        let (_host, root) = sandbox();
        std::fs::write(root.path().join("keep"), b"kept").unwrap();
        let r = Root::open(root.path()).unwrap();
        let data = tar_of(&[("keep", EntryType::Link, b"", "../../outside")]);
        assert!(unpack(&r, &data[..], &UnpackOptions::default()).is_err());
        assert_eq!(std::fs::read(root.path().join("keep")).unwrap(), b"kept");
        // A header whose uid, gid and mtime fields are empty, as some writers leave them.
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o600);
        h.as_old_mut().name[..4].copy_from_slice(b"keep");
        h.as_old_mut().uid = [0; 8];
        h.as_old_mut().mtime = [0; 12];
        h.set_cksum();
        let mut b = tar::Builder::new(Vec::new());
        b.append(&h, &b"new"[..]).unwrap();
        let data = b.into_inner().unwrap();
        unpack(&r, &data[..], &UnpackOptions::default()).unwrap();
        assert_eq!(std::fs::read(root.path().join("keep")).unwrap(), b"new");
        assert_eq!(
            std::fs::metadata(root.path().join("keep")).unwrap().uid(),
            0
        );
    }

    #[test]
    fn forced_owner_and_rebase_apply() {
        let (_host, root) = sandbox();
        let r = Root::open(root.path()).unwrap();
        let opts = UnpackOptions {
            owner: Some((42, 43)),
            rebase: vec![(b"src".to_vec(), b"dst".to_vec())],
            ..Default::default()
        };
        let data = tar_of(&[
            ("src/", EntryType::Directory, b"", ""),
            ("src/f", EntryType::Regular, b"x", ""),
        ]);
        unpack(&r, &data[..], &opts).unwrap();
        let meta = std::fs::metadata(root.path().join("dst/f")).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (42, 43));
    }

    #[test]
    fn remapped_owners_are_shifted_and_an_unmapped_one_refused() {
        let (_host, root) = sandbox();
        let r = Root::open(root.path()).unwrap();
        let range = vec![berth_core::IdMap {
            container_id: 0,
            host_id: 400_000,
            size: 65536,
        }];
        let opts = UnpackOptions {
            ids: IdMapping {
                uids: range.clone(),
                gids: range,
            },
            ..Default::default()
        };
        // `implied/` is not in the archive: it is made for the remapped root.
        let data = tar_of(&[("implied/f", EntryType::Regular, b"x", "")]);
        unpack(&r, &data[..], &opts).unwrap();
        let meta = std::fs::metadata(root.path().join("implied/f")).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (401_234, 405_678));
        let dir = std::fs::metadata(root.path().join("implied")).unwrap();
        assert_eq!((dir.uid(), dir.gid()), (400_000, 400_000));

        let mut far = tar::Header::new_gnu();
        far.set_path("far").unwrap();
        far.set_size(0);
        far.set_mode(0o644);
        far.set_uid(70_000);
        far.set_cksum();
        let mut b = tar::Builder::new(Vec::new());
        b.append(&far, &b""[..]).unwrap();
        let err = unpack(&r, &b.into_inner().unwrap()[..], &opts).unwrap_err();
        assert_eq!(
            err.to_string(),
            "container ID 70000 cannot be mapped to a host ID"
        );
        assert!(!root.path().join("far").exists());
    }
}
