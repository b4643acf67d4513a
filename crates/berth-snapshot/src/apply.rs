//! Safe, streaming layer apply: tar (plain, gzip or zstd) → a layer directory, computing the
//! diff ID (sha256 of the uncompressed tar) in the same pass.
//!
//! Metadata kept: mode bits (incl. setuid/setgid/sticky), numeric uid/gid, atime/mtime,
//! xattrs (incl. `security.capability`). Xattrs named `trusted.*` or `security.selinux` in a
//! layer are dropped: `trusted.overlay.*` would let a layer forge overlay metadata (opaque
//! dirs, redirects), and SELinux labels belong to the host's policy, not to an image.

use std::collections::HashSet;
use std::fs::{self, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use berth_core::{Digest, IdMapping};
use nix::sys::stat::{mknod, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use sha2::{Digest as _, Sha256};

use crate::decompress::{decompressed, READ_BUFFER};
use crate::error::{Error, IoContext};
use crate::safe_path::{components, ensure_parent_dirs, join, parents_are_dirs};
use crate::whiteout::{OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX};

/// How OCI whiteouts in the archive are materialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteoutMode {
    /// Into overlayfs whiteouts: a 0/0 character device, or `trusted.overlay.opaque=y`.
    Overlay,
    /// By deleting in place: for a copy of the parent tree (the vfs driver).
    Delete,
}

/// What applying a layer produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// sha256 of the uncompressed tar stream.
    pub diff_id: Digest,
    /// Length of the uncompressed tar stream in bytes.
    pub tar_size: u64,
}

/// Unpacks the layer archive `layer` into the existing directory `dest`.
///
/// Any entry that would land outside `dest` (`..`, absolute names, a write through a
/// symlink, a hardlink to a missing or outside target, a whiteout of `.`/`..`) refuses the
/// whole layer with [`Error::UnsafeEntry`]; the caller removes `dest`.
pub fn apply_layer<R: Read>(layer: R, dest: &Path, mode: WhiteoutMode) -> Result<Applied, Error> {
    apply_layer_mapped(layer, dest, mode, &IdMapping::default())
}

/// [`apply_layer`] with every owner shifted to its host ID by `ids` (`--userns-remap`): an
/// owner outside the mapping refuses the layer, as moby's unpack does.
pub fn apply_layer_mapped<R: Read>(
    layer: R,
    dest: &Path,
    mode: WhiteoutMode,
    ids: &IdMapping,
) -> Result<Applied, Error> {
    let (_, plain) = decompressed(layer).map_err(Error::Archive)?;
    let hashing = HashingReader::new(plain);
    let mut archive = tar::Archive::new(BufReader::with_capacity(READ_BUFFER, hashing));
    let mut state = Unpacker {
        dest,
        mode,
        ids,
        buf: vec![0; READ_BUFFER],
        dir_times: Vec::new(),
        created: HashSet::new(),
    };
    for entry in archive.entries().map_err(Error::Archive)? {
        let mut entry = entry.map_err(Error::Archive)?;
        state.unpack(&mut entry)?;
    }
    // Directory times last: creating children changes them.
    for (path, atime, mtime) in state.dir_times.iter().rev() {
        set_times(path, *atime, *mtime)?;
    }
    // The diff ID covers the whole stream, including the end-of-archive padding.
    let mut rest = archive.into_inner();
    io::copy(&mut rest, &mut io::sink()).map_err(Error::Archive)?;
    let hashing = rest.into_inner();
    Ok(Applied {
        diff_id: Digest::from_hex(&hex::encode(hashing.hasher.finalize()))
            .expect("sha256 hex is a valid digest"),
        tar_size: hashing.count,
    })
}

struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R> HashingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

struct Unpacker<'a> {
    dest: &'a Path,
    mode: WhiteoutMode,
    ids: &'a IdMapping,
    buf: Vec<u8>,
    dir_times: Vec<(PathBuf, TimeSpec, TimeSpec)>,
    /// Paths this layer created (Delete mode: an opaque dir keeps only these).
    created: HashSet<PathBuf>,
}

impl Unpacker<'_> {
    fn unpack<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<(), Error> {
        let name = entry.path_bytes().into_owned();
        let comps = components(&name)?;
        let kind = entry.header().entry_type();

        let Some((base, parents)) = comps.split_last() else {
            // "./": the layer root itself; only its metadata applies.
            if kind.is_dir() {
                return self.set_metadata(entry, self.dest.to_path_buf(), true);
            }
            return Err(Error::unsafe_entry(&name, "root entry is not a directory"));
        };

        if parents
            .iter()
            .any(|p| p.starts_with(WHITEOUT_PREFIX.as_bytes()))
        {
            // A path below a whiteout is contradictory; `.wh.../x` is an escape attempt.
            return Err(Error::unsafe_entry(&name, "whiteout used as a directory"));
        }
        if let Some(hidden) = base.strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
            return self.whiteout(&name, parents, base, hidden);
        }

        let parent = ensure_parent_dirs(self.dest, parents, &name)?;
        let path = parent.join(std::ffi::OsStr::from_bytes(base));
        self.clear_for(&path, kind.is_dir())?;
        if self.mode == WhiteoutMode::Delete {
            self.created.insert(path.clone());
        }

        use tar::EntryType as T;
        match kind {
            T::Directory => {
                if !path.is_dir() {
                    fs::create_dir(&path).ctx("mkdir", &path)?;
                }
            }
            T::Regular | T::Continuous | T::GNUSparse => {
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(&path)
                    .ctx("create", &path)?;
                loop {
                    let n = entry.read(&mut self.buf).map_err(Error::Archive)?;
                    if n == 0 {
                        break;
                    }
                    f.write_all(&self.buf[..n]).ctx("write", &path)?;
                }
            }
            T::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| Error::unsafe_entry(&name, "symlink without target"))?;
                std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&target), &path)
                    .ctx("symlink", &path)?;
            }
            T::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| Error::unsafe_entry(&name, "hardlink without target"))?;
                let tcomps = components(&target)?;
                let Some((_, tparents)) = tcomps.split_last() else {
                    return Err(Error::unsafe_entry(&name, "hardlink to the layer root"));
                };
                // As moby's pkg/archive: the target must be in this same layer (a layer
                // written by Docker always carries the first copy of a linked file).
                if !parents_are_dirs(self.dest, tparents, &name)? {
                    return Err(Error::unsafe_entry(&name, "hardlink target not in layer"));
                }
                let tpath = join(self.dest, &tcomps);
                match fs::symlink_metadata(&tpath) {
                    Ok(m) if !m.is_dir() => {}
                    _ => return Err(Error::unsafe_entry(&name, "hardlink target not in layer")),
                }
                fs::hard_link(&tpath, &path).ctx("link", &path)?;
                // The inode's metadata came with its first name.
                return Ok(());
            }
            T::Char | T::Block | T::Fifo => {
                let h = entry.header();
                let (sflag, dev) = match kind {
                    T::Char | T::Block => {
                        let major = h.device_major().ok().flatten().unwrap_or(0);
                        let minor = h.device_minor().ok().flatten().unwrap_or(0);
                        let f = if kind == T::Char {
                            SFlag::S_IFCHR
                        } else {
                            SFlag::S_IFBLK
                        };
                        (f, nix::sys::stat::makedev(major.into(), minor.into()))
                    }
                    _ => (SFlag::S_IFIFO, 0),
                };
                mknod(&path, sflag, Mode::from_bits_truncate(0o600), dev).ctx("mknod", &path)?;
            }
            // PAX/GNU metadata records are folded into the entry by the tar crate.
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => return Ok(()),
            _ => return Err(Error::unsafe_entry(&name, "unsupported entry type")),
        }
        let is_dir = kind.is_dir();
        self.set_metadata(entry, path, is_dir)
    }

    /// Removes what is in the way of a new entry (a directory stays for a directory).
    fn clear_for(&self, path: &Path, new_is_dir: bool) -> Result<(), Error> {
        match fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() && new_is_dir => Ok(()),
            // Parents were checked, and remove_dir_all never follows symlinks.
            Ok(m) if m.is_dir() => fs::remove_dir_all(path).ctx("remove", path),
            Ok(_) => fs::remove_file(path).ctx("remove", path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).ctx("lstat", path),
        }
    }

    fn whiteout(
        &mut self,
        name: &[u8],
        parents: &[&[u8]],
        base: &[u8],
        hidden: &[u8],
    ) -> Result<(), Error> {
        let parent = ensure_parent_dirs(self.dest, parents, name)?;
        if base == WHITEOUT_OPAQUE.as_bytes() {
            return match self.mode {
                WhiteoutMode::Overlay => {
                    xattr::set(&parent, OPAQUE_XATTR, b"y").ctx("setxattr opaque", &parent)
                }
                WhiteoutMode::Delete => self.clear_opaque(&parent),
            };
        }
        if hidden.starts_with(WHITEOUT_PREFIX.as_bytes()) {
            // Other `.wh..wh.` names are AUFS bookkeeping; Docker skips them too.
            return Ok(());
        }
        if hidden.is_empty() || hidden == b"." || hidden == b".." {
            return Err(Error::unsafe_entry(name, "whiteout of an invalid name"));
        }
        let path = parent.join(std::ffi::OsStr::from_bytes(hidden));
        self.clear_for(&path, false)?;
        if self.mode == WhiteoutMode::Overlay {
            mknod(&path, SFlag::S_IFCHR, Mode::empty(), 0).ctx("mknod whiteout", &path)?;
            let (uid, gid) = self.ids.root_pair();
            std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).ctx("chown", &path)?;
        }
        Ok(())
    }

    fn clear_opaque(&self, dir: &Path) -> Result<(), Error> {
        for child in fs::read_dir(dir).ctx("readdir", dir)? {
            let child = child.ctx("readdir", dir)?.path();
            if !self.created.contains(&child) {
                self.clear_for(&child, false)?;
            }
        }
        Ok(())
    }

    fn set_metadata<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        path: PathBuf,
        is_dir: bool,
    ) -> Result<(), Error> {
        let h = entry.header();
        let kind = h.entry_type();
        let (uid, gid) = self
            .ids
            .to_host(h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32)?;
        let perm = h.mode().unwrap_or(0o644) & 0o7777;
        let mut mtime = TimeSpec::new(h.mtime().unwrap_or(0) as i64, 0);
        let mut atime = None;
        let mut xattrs = Vec::new();
        if let Ok(Some(exts)) = entry.pax_extensions() {
            for ext in exts.flatten() {
                let key = ext.key_bytes();
                if let Some(xname) = key.strip_prefix(b"SCHILY.xattr.") {
                    xattrs.push((xname.to_vec(), ext.value_bytes().to_vec()));
                } else if key == b"mtime" {
                    mtime = parse_pax_time(ext.value_bytes()).unwrap_or(mtime);
                } else if key == b"atime" {
                    atime = parse_pax_time(ext.value_bytes());
                }
            }
        }
        std::os::unix::fs::lchown(&path, Some(uid), Some(gid)).ctx("chown", &path)?;
        for (xname, value) in xattrs {
            if xname.starts_with(b"trusted.") || xname == b"security.selinux" {
                tracing::debug!(path = %path.display(), "dropping xattr {}", String::from_utf8_lossy(&xname));
                continue;
            }
            let xname = std::ffi::OsStr::from_bytes(&xname);
            if let Err(e) = xattr::set(&path, xname, &value) {
                if e.raw_os_error() == Some(libc::ENOTSUP) {
                    tracing::warn!(path = %path.display(), "filesystem does not support xattr {xname:?}");
                } else {
                    return Err(e).ctx("setxattr", &path);
                }
            }
        }
        // After chown, which clears setuid/setgid; symlinks have no mode of their own.
        if kind != tar::EntryType::Symlink {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(perm)).ctx("chmod", &path)?;
        }
        let atime = atime.unwrap_or(mtime);
        if is_dir {
            self.dir_times.push((path, atime, mtime));
        } else {
            set_times(&path, atime, mtime)?;
        }
        Ok(())
    }
}

fn set_times(path: &Path, atime: TimeSpec, mtime: TimeSpec) -> Result<(), Error> {
    utimensat(None, path, &atime, &mtime, UtimensatFlags::NoFollowSymlink).ctx("utimensat", path)
}

/// PAX times are decimal seconds with an optional fraction: `1700000000.123456789`.
fn parse_pax_time(v: &[u8]) -> Option<TimeSpec> {
    let s = std::str::from_utf8(v).ok()?;
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    let mut nanos = 0i64;
    if !frac.is_empty() {
        let digits: String = frac.chars().take(9).collect();
        nanos = digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32);
    }
    Some(TimeSpec::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pax_time_keeps_nanoseconds() {
        let t = parse_pax_time(b"1700000000.5").unwrap();
        assert_eq!((t.tv_sec(), t.tv_nsec()), (1_700_000_000, 500_000_000));
        assert!(parse_pax_time(b"abc").is_none());
    }
}
