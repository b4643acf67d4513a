//! Layer diffs: an overlay upper dir (or the changes between two trees) → an OCI layer tar
//! with whiteouts, in a deterministic (sorted) order.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::changes::{differs, is_opaque, is_whiteout, Change, ChangeKind, InitPaths};
use berth_core::IdMapping;

use crate::error::{Error, IoContext};
use crate::whiteout::{WHITEOUT_OPAQUE, WHITEOUT_PREFIX};

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

/// Every entry of an overlay upper dir, whiteouts and opaque dirs converted (what moby's
/// overlay2 `Diff` tars).
pub(crate) fn upper_entries(upper: &Path) -> Result<BTreeMap<PathBuf, DiffEntry>, Error> {
    let mut entries = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = upper.join(&rel);
        for child in fs::read_dir(&dir).ctx("readdir", &dir)? {
            let child = child.ctx("readdir", &dir)?;
            let crel = rel.join(child.file_name());
            let abs = child.path();
            let meta = fs::symlink_metadata(&abs).ctx("lstat", &abs)?;
            let entry = if is_whiteout(&meta) {
                DiffEntry::Whiteout
            } else if meta.is_dir() {
                stack.push(crel.clone());
                if is_opaque(&abs) {
                    DiffEntry::OpaqueDir(abs)
                } else {
                    DiffEntry::Copy(abs)
                }
            } else {
                DiffEntry::Copy(abs)
            };
            entries.insert(crel, entry);
        }
    }
    Ok(entries)
}

/// Leaves out the runtime's mount targets the parent lacks (they belong to dockerd's init
/// layer, not to the container's), and their parent directories when nothing else of the
/// container's is in them and they are as the parent has them (overlay copied them up
/// only to hold a mount target).
pub(crate) fn drop_init_entries(
    entries: &mut BTreeMap<PathBuf, DiffEntry>,
    init: &InitPaths,
    below: impl Fn(&Path) -> Option<(PathBuf, fs::Metadata)>,
) {
    let mut candidates: Vec<PathBuf> = init
        .paths()
        .iter()
        .flat_map(|p| p.ancestors().filter(|a| !a.as_os_str().is_empty()))
        .map(Path::to_path_buf)
        .collect();
    // Deepest first, so a directory is judged after what is under it.
    candidates.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    candidates.dedup();
    for p in candidates {
        let Some(DiffEntry::Copy(abs)) = entries.get(&p) else {
            continue;
        };
        let Ok(meta) = fs::symlink_metadata(abs) else {
            continue;
        };
        let has_children = entries
            .range(p.clone()..)
            .nth(1)
            .is_some_and(|(k, _)| k.starts_with(&p));
        let drop = match below(&p) {
            None => !meta.is_dir() || !has_children,
            Some((bp, bm)) => {
                meta.is_dir() && bm.is_dir() && !has_children && !differs(&bm, &bp, &meta, abs)
            }
        };
        if drop {
            entries.remove(&p);
        }
    }
}

/// The entries for a change list over the tree `new` (the copy driver; moby's
/// `ExportChanges`).
pub(crate) fn change_entries(new: &Path, changes: &[Change]) -> BTreeMap<PathBuf, DiffEntry> {
    changes
        .iter()
        .map(|c| {
            let rel = PathBuf::from(c.path.trim_start_matches('/'));
            let e = match c.kind {
                ChangeKind::Deleted => DiffEntry::Whiteout,
                _ => DiffEntry::Copy(new.join(&rel)),
            };
            (rel, e)
        })
        .collect()
}

/// Writes `entries` as a tar stream. Hardlinked files (same inode) after the first become
/// link entries, so the layer keeps them linked. Owners are written as container IDs under
/// `ids` (`--userns-remap`); an owner outside the mapping fails the diff, as in moby.
pub(crate) fn write_tar<W: Write>(
    entries: &BTreeMap<PathBuf, DiffEntry>,
    ids: &IdMapping,
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
                        let (uid, gid) = ids.to_container(meta.uid(), meta.gid())?;
                        h.set_uid(uid.into());
                        h.set_gid(gid.into());
                        h.set_entry_type(tar::EntryType::Link);
                        h.set_size(0);
                        b.append_link(&mut h, rel, first).map_err(werr)?;
                        continue;
                    }
                    seen_inodes.insert(key, rel.clone());
                }
                if ids.is_empty() {
                    b.append_path_with_name(abs, rel).map_err(werr)?;
                } else {
                    append_mapped(&mut b, abs, rel, &meta, ids)?;
                }
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

/// Appends `abs` as `rel` with its owner translated to container IDs.
fn append_mapped<W: Write>(
    b: &mut tar::Builder<W>,
    abs: &Path,
    rel: &Path,
    meta: &fs::Metadata,
    ids: &IdMapping,
) -> Result<(), Error> {
    use std::os::unix::fs::FileTypeExt;
    let werr = |e: io::Error| Error::Io {
        op: "write layer tar",
        path: abs.to_owned(),
        source: e,
    };
    let mut h = tar::Header::new_gnu();
    h.set_metadata_in_mode(meta, tar::HeaderMode::Complete);
    let (uid, gid) = ids.to_container(meta.uid(), meta.gid())?;
    h.set_uid(uid.into());
    h.set_gid(gid.into());
    let ft = meta.file_type();
    if ft.is_file() {
        let file = fs::File::open(abs).ctx("open", abs)?;
        return b.append_data(&mut h, rel, file).map_err(werr);
    }
    if ft.is_symlink() {
        let target = fs::read_link(abs).ctx("readlink", abs)?;
        return b.append_link(&mut h, rel, target).map_err(werr);
    }
    if ft.is_char_device() || ft.is_block_device() {
        let rdev = meta.rdev();
        h.set_entry_type(if ft.is_char_device() {
            tar::EntryType::Char
        } else {
            tar::EntryType::Block
        });
        h.set_device_major(nix::sys::stat::major(rdev) as u32)
            .map_err(werr)?;
        h.set_device_minor(nix::sys::stat::minor(rdev) as u32)
            .map_err(werr)?;
    } else if ft.is_fifo() {
        h.set_entry_type(tar::EntryType::Fifo);
    } else if !ft.is_dir() {
        // Sockets cannot be archived; the unmapped path refuses them the same way.
        return Err(werr(io::Error::other("socket can not be archived")));
    }
    h.set_size(0);
    b.append_data(&mut h, rel, io::empty()).map_err(werr)
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
