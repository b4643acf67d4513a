//! Layer diffs: an overlay upper dir (or a tree compared with its parent) → an OCI layer tar
//! with whiteouts, in a deterministic (sorted) order, plus the A/C/D change list.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext};
use crate::whiteout::{OPAQUE_XATTR, WHITEOUT_OPAQUE, WHITEOUT_PREFIX};

/// A change kind, as `docker diff` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

/// One changed path, relative to the root, with a leading `/` (as `docker diff`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

/// What the tar gets for one path.
#[derive(Debug)]
pub(crate) enum DiffEntry {
    /// Copy this file (from the upper dir or the new tree).
    Copy(PathBuf),
    /// A deleted path: `.wh.NAME`.
    Whiteout,
    /// A directory that hides everything below it: the dir itself plus `.wh..wh..opq`.
    OpaqueDir(PathBuf),
}

/// Walks an overlay upper dir. `exists_below(rel)` says whether a path exists in the
/// lower layers, which decides Added versus Modified.
pub(crate) fn walk_upper(
    upper: &Path,
    exists_below: &dyn Fn(&Path) -> bool,
) -> Result<(BTreeMap<PathBuf, DiffEntry>, Vec<Change>), Error> {
    let mut entries = BTreeMap::new();
    let mut changes = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = upper.join(&rel);
        for child in fs::read_dir(&dir).ctx("readdir", &dir)? {
            let child = child.ctx("readdir", &dir)?;
            let crel = rel.join(child.file_name());
            let abs = child.path();
            let meta = fs::symlink_metadata(&abs).ctx("lstat", &abs)?;
            let ft = meta.file_type();
            if ft.is_char_device() && meta.rdev() == 0 {
                entries.insert(crel.clone(), DiffEntry::Whiteout);
                changes.push(change(&crel, ChangeKind::Deleted));
                continue;
            }
            let existed = exists_below(&crel);
            let kind = if existed {
                ChangeKind::Modified
            } else {
                ChangeKind::Added
            };
            changes.push(change(&crel, kind));
            if ft.is_dir() {
                let opaque = matches!(xattr::get(&abs, OPAQUE_XATTR), Ok(Some(v)) if v == b"y");
                let e = if opaque {
                    DiffEntry::OpaqueDir(abs.clone())
                } else {
                    DiffEntry::Copy(abs.clone())
                };
                entries.insert(crel.clone(), e);
                stack.push(crel);
            } else {
                entries.insert(crel, DiffEntry::Copy(abs));
            }
        }
    }
    changes.sort();
    Ok((entries, changes))
}

/// Compares `new` with `old` (the copy driver): size, mode, owner, mtime, device number
/// and symlink target, as Docker's `ChangesDirs` does. Both trees are trusted (ours).
pub(crate) fn walk_compare(
    old: Option<&Path>,
    new: &Path,
) -> Result<(BTreeMap<PathBuf, DiffEntry>, Vec<Change>), Error> {
    let old_index = match old {
        Some(o) => index_tree(o)?,
        None => BTreeMap::new(),
    };
    let new_index = index_tree(new)?;
    let mut entries = BTreeMap::new();
    let mut changes = Vec::new();
    for (rel, m) in &new_index {
        let kind = match old_index.get(rel) {
            None => ChangeKind::Added,
            Some(o) if o != m => ChangeKind::Modified,
            Some(_) => continue,
        };
        // A directory that only changed because its children did is not itself a change
        // in the tar sense, but Docker lists it as Modified; keep both behaviours.
        entries.insert(rel.clone(), DiffEntry::Copy(new.join(rel)));
        changes.push(change(rel, kind));
    }
    for rel in old_index.keys() {
        if !new_index.contains_key(rel) {
            // Only the topmost deleted path needs a whiteout.
            let parent_gone = rel
                .parent()
                .is_some_and(|p| !p.as_os_str().is_empty() && !new_index.contains_key(p));
            if !parent_gone {
                entries.insert(rel.clone(), DiffEntry::Whiteout);
                changes.push(change(rel, ChangeKind::Deleted));
            }
        }
    }
    changes.sort();
    Ok((entries, changes))
}

#[derive(PartialEq, Eq)]
struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    mtime: (i64, i64),
    rdev: u64,
    link: Option<PathBuf>,
}

fn index_tree(root: &Path) -> Result<BTreeMap<PathBuf, Meta>, Error> {
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for child in fs::read_dir(&dir).ctx("readdir", &dir)? {
            let child = child.ctx("readdir", &dir)?;
            let crel = rel.join(child.file_name());
            let abs = child.path();
            let m = fs::symlink_metadata(&abs).ctx("lstat", &abs)?;
            let is_dir = m.is_dir();
            out.insert(
                crel.clone(),
                Meta {
                    mode: m.mode(),
                    uid: m.uid(),
                    gid: m.gid(),
                    // A directory's size and mtime change with its entries; those are
                    // reported through the children.
                    size: if is_dir { 0 } else { m.size() },
                    mtime: if is_dir {
                        (0, 0)
                    } else {
                        (m.mtime(), m.mtime_nsec())
                    },
                    rdev: m.rdev(),
                    link: m
                        .file_type()
                        .is_symlink()
                        .then(|| fs::read_link(&abs).unwrap_or_default()),
                },
            );
            if is_dir {
                stack.push(crel);
            }
        }
    }
    Ok(out)
}

fn change(rel: &Path, kind: ChangeKind) -> Change {
    Change {
        path: format!("/{}", rel.display()),
        kind,
    }
}

/// Writes `entries` as a tar stream. Hardlinked files (same inode) after the first become
/// link entries, so the layer keeps them linked.
pub(crate) fn write_tar<W: Write>(
    entries: &BTreeMap<PathBuf, DiffEntry>,
    out: W,
) -> Result<W, Error> {
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    let mut seen_inodes: HashMap<(u64, u64), PathBuf> = HashMap::new();
    let werr = |e: io::Error| Error::Io {
        op: "write layer tar",
        path: PathBuf::new(),
        source: e,
    };
    for (rel, e) in entries {
        match e {
            DiffEntry::Whiteout => {
                let name = rel.parent().unwrap_or(Path::new("")).join(format!(
                    "{WHITEOUT_PREFIX}{}",
                    rel.file_name().unwrap_or_default().to_string_lossy()
                ));
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(0);
                h.set_mode(0o600);
                h.set_mtime(0);
                b.append_data(&mut h, name, io::empty()).map_err(werr)?;
            }
            DiffEntry::Copy(abs) | DiffEntry::OpaqueDir(abs) => {
                let meta = fs::symlink_metadata(abs).ctx("lstat", abs)?;
                append_xattrs(&mut b, abs).map_err(werr)?;
                if meta.is_file() && meta.nlink() > 1 {
                    let key = (meta.dev(), meta.ino());
                    if let Some(first) = seen_inodes.get(&key) {
                        let mut h = tar::Header::new_gnu();
                        h.set_metadata_in_mode(&meta, tar::HeaderMode::Complete);
                        h.set_entry_type(tar::EntryType::Link);
                        h.set_size(0);
                        b.append_link(&mut h, rel, first).map_err(werr)?;
                        continue;
                    }
                    seen_inodes.insert(key, rel.clone());
                }
                b.append_path_with_name(abs, rel).map_err(werr)?;
                if matches!(e, DiffEntry::OpaqueDir(_)) {
                    let mut h = tar::Header::new_gnu();
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_size(0);
                    h.set_mode(0o600);
                    h.set_mtime(meta.mtime().max(0) as u64);
                    b.append_data(&mut h, rel.join(WHITEOUT_OPAQUE), io::empty())
                        .map_err(werr)?;
                }
            }
        }
    }
    b.into_inner().map_err(werr)
}

/// Adds a PAX record carrying the file's xattrs (except overlay's own and SELinux labels)
/// for the next entry.
fn append_xattrs<W: Write>(b: &mut tar::Builder<W>, abs: &Path) -> io::Result<()> {
    let Ok(names) = xattr::list(abs) else {
        return Ok(());
    };
    let mut recs: Vec<(String, Vec<u8>)> = Vec::new();
    for name in names {
        let n = name.as_bytes();
        if n.starts_with(b"trusted.") || n == b"security.selinux" {
            continue;
        }
        if let Ok(Some(v)) = xattr::get(abs, &name) {
            recs.push((format!("SCHILY.xattr.{}", name.to_string_lossy()), v));
        }
    }
    if recs.is_empty() {
        return Ok(());
    }
    recs.sort();
    b.append_pax_extensions(recs.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
}
