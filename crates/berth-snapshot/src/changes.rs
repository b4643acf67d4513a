//! `docker diff`: what changed in a snapshot against its parent, by moby's rules
//! (go-archive `ChangesDirs`, which dockerd uses for overlay2 too):
//!
//! - a path missing from the parent is Added, and so is everything under an added directory;
//! - a path present in both is Modified when its type, permissions, owner, device number,
//!   or (not for directories) size or mtime differ, or its `security.capability` does;
//! - a path gone is Deleted, and only the topmost one (nothing below a deleted directory);
//! - a directory with any change below it is Modified, even if it did not change itself.
//!
//! Two sources: an overlay upper dir read against the merged lower layers (only what the
//! container wrote is visited), or, for the copy driver, two whole trees compared.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext};
use crate::whiteout::OPAQUE_XATTR;

/// A change kind, as `docker diff` prints it (`C`, `A`, `D`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl ChangeKind {
    /// The API's number (`archive.ChangeType`): 0 modified, 1 added, 2 deleted.
    pub fn api_code(self) -> u8 {
        match self {
            ChangeKind::Modified => 0,
            ChangeKind::Added => 1,
            ChangeKind::Deleted => 2,
        }
    }

    /// The letter `docker diff` prints.
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Modified => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// One changed path, relative to the root, with a leading `/` (as `docker diff`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

fn change(rel: &Path, kind: ChangeKind) -> Change {
    Change {
        path: format!("/{}", rel.display()),
        kind,
    }
}

/// Paths a runtime makes in every container as mount targets (`/etc/hosts`, `/proc`, ...),
/// which dockerd keeps in an "init" layer between the image and the container's own layer.
/// Where the parent lacks them, they and their parent directories count as the parent's:
/// no change in `docker diff`, and no entry in a commit's layer.
#[derive(Debug, Clone, Default)]
pub struct InitPaths(Vec<PathBuf>);

impl InitPaths {
    /// From absolute container paths.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a str>) -> Self {
        Self(
            paths
                .into_iter()
                .map(|p| PathBuf::from(p.trim_start_matches('/')))
                .collect(),
        )
    }

    /// Whether `rel` is one of the paths or a parent directory of one.
    pub(crate) fn covers(&self, rel: &Path) -> bool {
        self.0.iter().any(|p| p.starts_with(rel))
    }

    pub(crate) fn paths(&self) -> &[PathBuf] {
        &self.0
    }
}

/// An overlayfs whiteout: a character device 0/0.
pub(crate) fn is_whiteout(m: &Metadata) -> bool {
    m.file_type().is_char_device() && m.rdev() == 0
}

pub(crate) fn is_opaque(dir: &Path) -> bool {
    matches!(xattr::get(dir, OPAQUE_XATTR), Ok(Some(v)) if v == b"y")
}

fn capability(path: &Path) -> Option<Vec<u8>> {
    xattr::get(path, "security.capability").ok().flatten()
}

/// Go's `sameFsTime`: equal, or the same second with either side lacking nanoseconds
/// (tar timestamps have none).
fn same_fs_time(a: &Metadata, b: &Metadata) -> bool {
    (a.mtime(), a.mtime_nsec()) == (b.mtime(), b.mtime_nsec())
        || (a.mtime() == b.mtime() && (a.mtime_nsec() == 0 || b.mtime_nsec() == 0))
}

/// go-archive's `statDifferent` plus its capability comparison.
pub(crate) fn differs(old: &Metadata, old_path: &Path, new: &Metadata, new_path: &Path) -> bool {
    const TYPE_AND_MODE: u32 = libc::S_IFMT | 0o7777;
    if old.mode() & TYPE_AND_MODE != new.mode() & TYPE_AND_MODE
        || old.uid() != new.uid()
        || old.gid() != new.gid()
        || old.rdev() != new.rdev()
    {
        return true;
    }
    if !old.is_dir() && (!same_fs_time(old, new) || old.size() != new.size()) {
        return true;
    }
    capability(old_path) != capability(new_path)
}

/// The merged view of overlay lower layers (topmost first), as the parent image shows it.
pub(crate) struct LowerView {
    pub layers: Vec<PathBuf>,
}

impl LowerView {
    /// The path `rel` as the merged lowers show it: the topmost layer's entry, unless a
    /// whiteout, an opaque directory or a non-directory above hides it.
    pub fn lookup(&self, rel: &Path) -> Option<(PathBuf, Metadata)> {
        let comps: Vec<_> = rel.components().collect();
        for layer in &self.layers {
            let mut p = layer.clone();
            let mut opaque_above = false;
            for (i, c) in comps.iter().enumerate() {
                p.push(c);
                match fs::symlink_metadata(&p) {
                    Err(_) if opaque_above => return None,
                    Err(_) => break,
                    Ok(m) if is_whiteout(&m) => return None,
                    Ok(m) if i + 1 == comps.len() => return Some((p, m)),
                    Ok(m) if !m.is_dir() => return None,
                    Ok(_) => opaque_above |= is_opaque(&p),
                }
            }
        }
        None
    }

    /// The names the merged lowers show in the directory `rel`.
    pub fn children(&self, rel: &Path) -> BTreeSet<OsString> {
        let mut names = BTreeSet::new();
        for layer in &self.layers {
            if let Ok(rd) = fs::read_dir(layer.join(rel)) {
                names.extend(rd.flatten().map(|e| e.file_name()));
            }
        }
        names.retain(|n| self.lookup(&rel.join(n)).is_some());
        names
    }
}

/// The changes an overlay upper dir makes over its lower layers.
pub(crate) fn overlay_changes(
    upper: &Path,
    lower: &LowerView,
    init: &InitPaths,
) -> Result<Vec<Change>, Error> {
    let mut out = Vec::new();
    overlay_dir(upper, Path::new(""), lower, init, true, &mut out)?;
    out.sort();
    Ok(out)
}

/// Records the changes under the upper directory `rel` (`below`: whether the lowers have
/// it as a directory); returns whether there were any.
fn overlay_dir(
    upper: &Path,
    rel: &Path,
    lower: &LowerView,
    init: &InitPaths,
    below: bool,
    out: &mut Vec<Change>,
) -> Result<bool, Error> {
    let dir = upper.join(rel);
    let mut any = false;
    for entry in fs::read_dir(&dir).ctx("readdir", &dir)? {
        let entry = entry.ctx("readdir", &dir)?;
        let crel = rel.join(entry.file_name());
        let abs = entry.path();
        let meta = fs::symlink_metadata(&abs).ctx("lstat", &abs)?;
        let below = if below { lower.lookup(&crel) } else { None };
        if is_whiteout(&meta) {
            if below.is_some() {
                out.push(change(&crel, ChangeKind::Deleted));
                any = true;
            }
            continue;
        }
        let mut kind = match &below {
            None if init.covers(&crel) => None,
            None => Some(ChangeKind::Added),
            Some((bp, bm)) => differs(bm, bp, &meta, &abs).then_some(ChangeKind::Modified),
        };
        if meta.is_dir() {
            let dir_below = below.as_ref().is_some_and(|(_, m)| m.is_dir());
            let mut inner = overlay_dir(upper, &crel, lower, init, dir_below, out)?;
            // An opaque directory hides what the lowers had in it: those entries are gone.
            if dir_below && is_opaque(&abs) {
                for name in lower.children(&crel) {
                    if fs::symlink_metadata(abs.join(&name)).is_err() {
                        out.push(change(&crel.join(&name), ChangeKind::Deleted));
                        inner = true;
                    }
                }
            }
            if kind.is_none() && inner {
                kind = Some(ChangeKind::Modified);
            }
        }
        if let Some(k) = kind {
            out.push(change(&crel, k));
            any = true;
        }
    }
    Ok(any)
}

/// The changes of the tree `new` over the tree `old` (None: an empty tree).
pub(crate) fn tree_changes(
    old: Option<&Path>,
    new: &Path,
    init: &InitPaths,
) -> Result<Vec<Change>, Error> {
    let mut out = Vec::new();
    tree_dir(old, new, Path::new(""), init, &mut out)?;
    out.sort();
    Ok(out)
}

fn tree_dir(
    old: Option<&Path>,
    new: &Path,
    rel: &Path,
    init: &InitPaths,
    out: &mut Vec<Change>,
) -> Result<bool, Error> {
    let dir = new.join(rel);
    let mut any = false;
    let mut seen = BTreeSet::new();
    for entry in fs::read_dir(&dir).ctx("readdir", &dir)? {
        let entry = entry.ctx("readdir", &dir)?;
        let name = entry.file_name();
        let crel = rel.join(&name);
        let abs = entry.path();
        let meta = fs::symlink_metadata(&abs).ctx("lstat", &abs)?;
        let before = old.and_then(|o| {
            let p = o.join(&crel);
            fs::symlink_metadata(&p).ok().map(|m| (p, m))
        });
        seen.insert(name);
        let mut kind = match &before {
            None if init.covers(&crel) => None,
            None => Some(ChangeKind::Added),
            Some((bp, bm)) => differs(bm, bp, &meta, &abs).then_some(ChangeKind::Modified),
        };
        if meta.is_dir() {
            let old_dir = before.as_ref().filter(|(_, m)| m.is_dir()).and(old);
            if tree_dir(old_dir, new, &crel, init, out)? && kind.is_none() {
                kind = Some(ChangeKind::Modified);
            }
        }
        if let Some(k) = kind {
            out.push(change(&crel, k));
            any = true;
        }
    }
    if let Some(o) = old {
        let odir = o.join(rel);
        if let Ok(rd) = fs::read_dir(&odir) {
            for entry in rd {
                let name = entry.ctx("readdir", &odir)?.file_name();
                if !seen.contains(&name) {
                    out.push(change(&rel.join(name), ChangeKind::Deleted));
                    any = true;
                }
            }
        }
    }
    Ok(any)
}

/// Bytes of the files under `root` as moby's `directory.Size` counts them: apparent sizes
/// of everything but directories, each inode once.
pub(crate) fn directory_size(root: &Path) -> Result<u64, Error> {
    let mut total = 0;
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).ctx("readdir", &d)? {
            let p = e.ctx("readdir", &d)?.path();
            // A file removed while we walk is simply not counted.
            let Ok(m) = fs::symlink_metadata(&p) else {
                continue;
            };
            if m.is_dir() {
                stack.push(p);
            } else if m.size() > 0 && seen.insert((m.dev(), m.ino())) {
                total += m.size();
            }
        }
    }
    Ok(total)
}

/// go-archive's `ChangesSize`: apparent sizes of the added and modified non-directories
/// under `root`, hardlinked files once.
pub(crate) fn changes_size(root: &Path, changes: &[Change]) -> u64 {
    let mut total = 0;
    let mut seen = std::collections::HashSet::new();
    for c in changes.iter().filter(|c| c.kind != ChangeKind::Deleted) {
        let Ok(m) = fs::symlink_metadata(root.join(c.path.trim_start_matches('/'))) else {
            continue;
        };
        if !m.is_dir() && (m.nlink() < 2 || seen.insert((m.dev(), m.ino()))) {
            total += m.size();
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn kinds(changes: &[Change]) -> Vec<String> {
        changes
            .iter()
            .map(|c| format!("{} {}", c.kind.letter(), c.path))
            .collect()
    }

    #[test]
    fn tree_changes_follow_moby() {
        let old = tempfile::tempdir().unwrap();
        let new = tempfile::tempdir().unwrap();
        for root in [old.path(), new.path()] {
            fs::create_dir_all(root.join("etc/sub")).unwrap();
            fs::write(root.join("etc/keep"), b"k").unwrap();
            fs::write(root.join("etc/sub/f"), b"f").unwrap();
            fs::create_dir(root.join("gone")).unwrap();
            fs::write(root.join("gone/inner"), b"i").unwrap();
            fs::write(root.join("mode"), b"m").unwrap();
        }
        // Align times so only real changes show.
        let sync = |rel: &str| {
            let t = fs::metadata(old.path().join(rel))
                .unwrap()
                .modified()
                .unwrap();
            fs::File::options()
                .write(true)
                .open(new.path().join(rel))
                .unwrap()
                .set_modified(t)
                .unwrap();
        };
        for f in ["etc/keep", "etc/sub/f", "gone/inner", "mode"] {
            sync(f);
        }
        fs::remove_dir_all(new.path().join("gone")).unwrap();
        fs::write(new.path().join("etc/sub/added"), b"a").unwrap();
        fs::set_permissions(new.path().join("mode"), fs::Permissions::from_mode(0o600)).unwrap();
        fs::create_dir_all(new.path().join("newdir/deep")).unwrap();
        let got =
            kinds(&tree_changes(Some(old.path()), new.path(), &InitPaths::default()).unwrap());
        assert_eq!(
            got,
            [
                "C /etc",
                "C /etc/sub",
                "A /etc/sub/added",
                "D /gone",
                "C /mode",
                "A /newdir",
                "A /newdir/deep"
            ]
        );
    }

    #[test]
    fn init_paths_and_their_parents_are_not_changes() {
        let new = tempfile::tempdir().unwrap();
        fs::create_dir_all(new.path().join("etc")).unwrap();
        fs::write(new.path().join("etc/hosts"), b"").unwrap();
        fs::create_dir(new.path().join("proc")).unwrap();
        let init = InitPaths::new(["/etc/hosts", "/proc"]);
        assert!(tree_changes(None, new.path(), &init).unwrap().is_empty());
        fs::write(new.path().join("etc/mine"), b"m").unwrap();
        let got = kinds(&tree_changes(None, new.path(), &init).unwrap());
        assert_eq!(got, ["C /etc", "A /etc/mine"]);
    }

    #[test]
    fn sizes_count_files_once_and_skip_directories() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("dir")).unwrap();
        fs::write(d.path().join("dir/a"), vec![0u8; 1000]).unwrap();
        fs::hard_link(d.path().join("dir/a"), d.path().join("b")).unwrap();
        std::os::unix::fs::symlink("dir/a", d.path().join("link")).unwrap();
        assert_eq!(directory_size(d.path()).unwrap(), 1000 + 5);
        let changes = tree_changes(None, d.path(), &InitPaths::default()).unwrap();
        assert_eq!(changes_size(d.path(), &changes), 1000 + 5);
    }
}
