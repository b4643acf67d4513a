//! Tar out of a root, as `GET /containers/{id}/archive` serves it (moby's
//! `containerArchivePath` with go-archive's tar appender): a directory is archived under
//! the requested path's base name (`foo/…`, `./…` for `foo/.`, `/…` for the root), any
//! other file as one entry named after it.
//!
//! The walk goes by descriptors only: every child is `fstatat`ed and opened relative to
//! its parent's descriptor with `O_NOFOLLOW`, so a directory swapped for a symlink while
//! we walk is archived as the symlink it became (or skipped), never followed.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};

use berth_core::IdMapping;
use rustix::fs::{fstat, openat, readlinkat, statat, AtFlags, Dir, FileType, Mode, OFlags, Stat};
use tar::{EntryType, Header};

use crate::path;
use crate::root::{io_err, Root};

/// Writes the archive of `abs_path` (a [`path::container_path`]) to `out` and returns
/// `out` once the archive is complete.
pub fn archive_path<W: Write>(root: &Root, abs_path: &[u8], out: W) -> io::Result<W> {
    archive_path_named(root, abs_path, path::base(abs_path), out)
}

/// [`archive_path`] with owners written as the container sees them under `ids`
/// (`--userns-remap`).
pub fn archive_path_mapped<W: Write>(
    root: &Root,
    abs_path: &[u8],
    ids: &IdMapping,
    out: W,
) -> io::Result<W> {
    let packer = Packer::new(out).with_id_mapping(ids.clone());
    archive_into(root, abs_path, path::base(abs_path), packer)
}

/// [`archive_path`] with the first element of every entry named `base` instead of the
/// path's own base name (`/` meaning entries start with `/`).
pub fn archive_path_named<W: Write>(
    root: &Root,
    abs_path: &[u8],
    base: &[u8],
    out: W,
) -> io::Result<W> {
    archive_into(root, abs_path, base, Packer::new(out))
}

fn archive_into<W: Write>(
    root: &Root,
    abs_path: &[u8],
    base: &[u8],
    mut packer: Packer<W>,
) -> io::Result<W> {
    let st = root.lstat(abs_path)?;
    if FileType::from_raw_mode(st.st_mode) == FileType::Directory {
        // A trailing `/` or `/.` made lstat follow a final symlink, and opening it the same
        // way follows it too; without them, the directory itself (O_NOFOLLOW).
        let dir = root.open_at(
            abs_path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW,
        )?;
        let prefix: &[u8] = if base == b"/" { b"" } else { base };
        packer.add_dir(dir, prefix.to_vec())?;
    } else {
        let (parent, name) = root.parent(abs_path)?;
        let name = name.unwrap_or_default();
        packer.add(&parent, &name, base.to_vec())?;
    }
    packer.finish()
}

/// Builds one archive, remembering hard-linked files so later names become links.
pub struct Packer<W: Write> {
    tar: tar::Builder<W>,
    links: HashMap<(u64, u64), Vec<u8>>,
    ids: IdMapping,
}

impl<W: Write> Packer<W> {
    pub fn new(out: W) -> Self {
        Self {
            tar: tar::Builder::new(out),
            links: HashMap::new(),
            ids: IdMapping::default(),
        }
    }

    /// Writes owners as a process in a user namespace with these mappings sees them
    /// (`--userns-remap`): host IDs shifted back, an unmapped one as the overflow ID.
    pub fn with_id_mapping(mut self, ids: IdMapping) -> Self {
        self.ids = ids;
        self
    }

    /// Ends the archive and returns the writer.
    pub fn finish(self) -> io::Result<W> {
        self.tar.into_inner()
    }

    /// Adds `name` of directory `parent` (and, for a directory, everything below it) as
    /// `entry_name`. Something that vanished or changed kind meanwhile is skipped.
    pub fn add(&mut self, parent: &impl AsFd, name: &[u8], entry_name: Vec<u8>) -> io::Result<()> {
        let st = match statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(e) => return skipped(&entry_name, e.into()),
        };
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => {
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                match openat(parent, name, flags, Mode::empty()) {
                    Ok(dir) => self.add_dir(dir, entry_name),
                    Err(e) => skipped(&entry_name, e.into()),
                }
            }
            FileType::RegularFile => self.add_file(parent, name, entry_name),
            FileType::Symlink => {
                let target = match readlinkat(parent, name, Vec::new()) {
                    Ok(t) => t.into_bytes(),
                    Err(e) => return skipped(&entry_name, e.into()),
                };
                let h = header(&st, EntryType::Symlink, 0)?;
                self.append(h, &entry_name, Some(&target), &[], io::empty())
            }
            FileType::Fifo => {
                let h = header(&st, EntryType::Fifo, 0)?;
                self.append(h, &entry_name, None, &[], io::empty())
            }
            FileType::CharacterDevice | FileType::BlockDevice => {
                let kind = if FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice {
                    EntryType::Char
                } else {
                    EntryType::Block
                };
                let mut h = header(&st, kind, 0)?;
                h.set_device_major(rustix::fs::major(st.st_rdev))?;
                h.set_device_minor(rustix::fs::minor(st.st_rdev))?;
                self.append(h, &entry_name, None, &[], io::empty())
            }
            // Sockets (and anything else) cannot go in a tar; go-archive skips them too.
            _ => Ok(()),
        }
    }

    /// Adds the open directory `dir` as `prefix/` and its children as `prefix/<child>`
    /// (in name order, as Go's walk does).
    pub fn add_dir(&mut self, dir: OwnedFd, prefix: Vec<u8>) -> io::Result<()> {
        let st = fstat(&dir).map_err(io_err)?;
        let mut top = prefix.clone();
        top.push(b'/');
        let caps = xattrs(&dir);
        self.append(
            header(&st, EntryType::Directory, 0)?,
            &top,
            None,
            &caps,
            io::empty(),
        )?;
        let mut names: Vec<Vec<u8>> = Vec::new();
        for entry in Dir::read_from(&dir).map_err(io_err)? {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => return skipped(&top, e.into()),
            };
            let name = entry.file_name().to_bytes();
            if name != b"." && name != b".." {
                names.push(name.to_vec());
            }
        }
        names.sort();
        for name in names {
            let child = [top.as_slice(), &name].concat();
            self.add(&dir, &name, child)?;
        }
        Ok(())
    }

    fn add_file(&mut self, parent: &impl AsFd, name: &[u8], entry_name: Vec<u8>) -> io::Result<()> {
        // O_NONBLOCK: a file swapped for a FIFO must not hang the open.
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match openat(parent, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(e) => return skipped(&entry_name, e.into()),
        };
        let st = fstat(&fd).map_err(io_err)?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            return Ok(());
        }
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let h = header(&st, EntryType::Link, 0)?;
                return self.append(h, &entry_name, Some(&first), &[], io::empty());
            }
            self.links.insert(key, entry_name.clone());
        }
        let size = u64::try_from(st.st_size).unwrap_or(0);
        let caps = xattrs(&fd);
        let h = header(&st, EntryType::Regular, size)?;
        let data = ExactSize::new(std::fs::File::from(fd), size);
        self.append(h, &entry_name, None, &caps, data)
    }

    /// Writes one entry: names and link targets longer than the header holds go in a PAX
    /// record before it (as Go's writer does), with the security xattrs.
    fn append(
        &mut self,
        mut h: Header,
        name: &[u8],
        link: Option<&[u8]>,
        xattrs: &[(String, Vec<u8>)],
        data: impl Read,
    ) -> io::Result<()> {
        let mut pax: Vec<(&str, &[u8])> = Vec::new();
        let old = h.as_old_mut();
        if name.len() > old.name.len() {
            pax.push(("path", name));
        }
        let n = name.len().min(old.name.len());
        old.name[..n].copy_from_slice(&name[..n]);
        if let Some(link) = link {
            if link.len() > old.linkname.len() {
                pax.push(("linkpath", link));
            }
            let n = link.len().min(old.linkname.len());
            old.linkname[..n].copy_from_slice(&link[..n]);
        }
        for (key, value) in xattrs {
            pax.push((key.as_str(), value.as_slice()));
        }
        if !pax.is_empty() {
            self.tar.append_pax_extensions(pax)?;
        }
        if !self.ids.is_empty() {
            let uid = h.uid()? as u32;
            let gid = h.gid()? as u32;
            let (uid, gid) = self.ids.to_container_or_overflow(uid, gid);
            h.set_uid(u64::from(uid));
            h.set_gid(u64::from(gid));
        }
        h.set_cksum();
        self.tar.append(&h, data)
    }
}

/// An entry that could not be read is left out (the container may be changing it),
/// as go-archive logs and goes on.
fn skipped(name: &[u8], e: io::Error) -> io::Result<()> {
    tracing::debug!(entry = %String::from_utf8_lossy(name), error = %e, "not archived");
    Ok(())
}

/// A USTAR header (Go's default format) for `st`; names are set by [`Packer::append`].
fn header(st: &Stat, kind: EntryType, size: u64) -> io::Result<Header> {
    let mut h = Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(u64::from(st.st_uid));
    h.set_gid(u64::from(st.st_gid));
    h.set_mtime(u64::try_from(st.st_mtime).unwrap_or(0));
    h.set_size(size);
    Ok(h)
}

/// The xattrs go-archive carries (`security.capability`), as PAX records.
fn xattrs(fd: &OwnedFd) -> Vec<(String, Vec<u8>)> {
    const NAME: &str = "security.capability";
    let mut buf = [0u8; 256];
    match rustix::fs::fgetxattr(fd, NAME, &mut buf[..]) {
        Ok(n) => vec![(format!("SCHILY.xattr.{NAME}"), buf[..n].to_vec())],
        Err(_) => Vec::new(),
    }
}

/// Reads exactly `size` bytes: a file that shrank meanwhile is padded with zeros, one that
/// grew is cut, so the entry always matches its header.
struct ExactSize<R> {
    inner: io::Take<R>,
    left: u64,
}

impl<R: Read> ExactSize<R> {
    fn new(inner: R, size: u64) -> Self {
        Self {
            inner: inner.take(size),
            left: size,
        }
    }
}

impl<R: Read> Read for ExactSize<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let n = match self.inner.read(buf)? {
            0 => {
                let n = buf
                    .len()
                    .min(usize::try_from(self.left).unwrap_or(usize::MAX));
                buf[..n].fill(0);
                n
            }
            n => n,
        };
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(archive: &[u8]) -> Vec<(String, EntryType, String)> {
        let mut a = tar::Archive::new(archive);
        a.entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let link = e
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default();
                (
                    String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                    e.header().entry_type(),
                    link,
                )
            })
            .collect()
    }

    fn tree() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir_all(r.join("d/sub")).unwrap();
        std::fs::write(r.join("d/a"), b"aaa").unwrap();
        std::fs::write(r.join("d/sub/b"), b"b").unwrap();
        std::fs::hard_link(r.join("d/a"), r.join("d/z")).unwrap();
        symlink("/", r.join("d/escape")).unwrap();
        symlink("/d", r.join("link")).unwrap();
        root
    }

    fn pack(root: &Root, p: &str) -> Vec<u8> {
        archive_path(root, &path::container_path(p), Vec::new()).unwrap()
    }

    #[test]
    fn directories_are_named_after_the_requested_base() {
        let root = tree();
        let r = Root::open(root.path()).unwrap();
        let got = names(&pack(&r, "/d"));
        let want = [
            ("d/", EntryType::Directory, ""),
            ("d/a", EntryType::Regular, ""),
            ("d/escape", EntryType::Symlink, "/"),
            ("d/sub/", EntryType::Directory, ""),
            ("d/sub/b", EntryType::Regular, ""),
            ("d/z", EntryType::Link, "d/a"),
        ];
        let want: Vec<_> = want
            .iter()
            .map(|(n, t, l)| (n.to_string(), *t, l.to_string()))
            .collect();
        assert_eq!(got, want);
        let dot = names(&pack(&r, "/d/."));
        assert_eq!(dot[0].0, "./");
        assert_eq!(dot[1].0, "./a");
        // A final symlink is archived as itself, unless a trailing slash follows it.
        assert_eq!(
            names(&pack(&r, "/link")),
            [("link".into(), EntryType::Symlink, "/d".into())]
        );
        let followed = names(&pack(&r, "/link/"));
        assert_eq!(followed[0].0, "link/");
        assert_eq!(followed[1].0, "link/a");
        let whole = names(&pack(&r, "/"));
        assert_eq!(whole[0].0, "/");
        assert!(whole.iter().any(|(n, _, _)| n == "/d/sub/b"));
    }

    #[test]
    fn a_link_to_the_host_root_is_never_followed() {
        let root = tree();
        let r = Root::open(root.path()).unwrap();
        // `escape/` follows the link, but inside the root: the archive is the root itself.
        let got = names(&pack(&r, "/d/escape/"));
        assert!(got.iter().any(|(n, _, _)| n == "escape/d/a"), "{got:?}");
        assert!(!got
            .iter()
            .any(|(n, _, _)| n.contains("proc") || n.contains("usr")));
    }

    #[test]
    fn contents_and_long_names_survive() {
        let root = tempfile::tempdir().unwrap();
        let long = "n".repeat(150);
        std::fs::create_dir(root.path().join("d")).unwrap();
        std::fs::write(root.path().join("d").join(&long), b"payload").unwrap();
        let r = Root::open(root.path()).unwrap();
        let data = pack(&r, "/d");
        let mut a = tar::Archive::new(&data[..]);
        let mut found = false;
        for e in a.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path_bytes().ends_with(long.as_bytes()) {
                let mut s = String::new();
                e.read_to_string(&mut s).unwrap();
                assert_eq!(s, "payload");
                found = true;
            }
        }
        assert!(found);
    }

    #[test]
    fn remapped_owners_are_written_as_the_container_sees_them() {
        use std::os::unix::fs::chown;
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        std::fs::create_dir(r.join("d")).unwrap();
        std::fs::write(r.join("d/mine"), b"m").unwrap();
        std::fs::write(r.join("d/host"), b"h").unwrap();
        chown(r.join("d"), Some(500_000), Some(500_000)).unwrap();
        chown(r.join("d/mine"), Some(500_033), Some(500_044)).unwrap();
        chown(r.join("d/host"), Some(0), Some(0)).unwrap();
        let range = vec![berth_core::IdMap {
            container_id: 0,
            host_id: 500_000,
            size: 65536,
        }];
        let ids = IdMapping {
            uids: range.clone(),
            gids: range,
        };
        let data = archive_path_mapped(
            &Root::open(r).unwrap(),
            &path::container_path("/d"),
            &ids,
            Vec::new(),
        )
        .unwrap();
        let mut owners = Vec::new();
        for e in tar::Archive::new(&data[..]).entries().unwrap() {
            let e = e.unwrap();
            owners.push((
                String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                e.header().uid().unwrap(),
                e.header().gid().unwrap(),
            ));
        }
        let overflow = u64::from(berth_core::OVERFLOW_ID);
        assert_eq!(
            owners,
            [
                ("d/".to_owned(), 0, 0),
                ("d/host".to_owned(), overflow, overflow),
                ("d/mine".to_owned(), 33, 44),
            ]
        );
    }

    #[test]
    fn exact_size_pads_and_cuts() {
        let mut out = Vec::new();
        ExactSize::new(&b"abc"[..], 5)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"abc\0\0");
        out.clear();
        ExactSize::new(&b"abcdef"[..], 2)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, b"ab");
    }
}
