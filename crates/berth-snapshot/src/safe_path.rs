//! Turning a tar entry name into a path that stays inside the layer directory.
//!
//! The layer directory is a fresh private temp dir that only the unpacker writes, so a
//! check-then-use on its components cannot race with another writer. Every entry name is
//! normalised lexically (no `..`, no absolute names), and every existing parent component
//! is `lstat`ed: a symlink (planted by an earlier entry) or a non-directory refuses the
//! layer, so nothing is ever written through a link.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext};

/// The normal components of an entry name; `Err` if it is absolute or has `..`.
pub fn components(name: &[u8]) -> Result<Vec<&[u8]>, Error> {
    if name.first() == Some(&b'/') {
        return Err(Error::unsafe_entry(name, "absolute path"));
    }
    let mut out = Vec::new();
    for c in name.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err(Error::unsafe_entry(name, "path escapes the layer (..)")),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// `root` joined with `comps`.
pub fn join(root: &Path, comps: &[&[u8]]) -> PathBuf {
    let mut p = root.to_path_buf();
    for c in comps {
        p.push(OsStr::from_bytes(c));
    }
    p
}

/// Makes sure every component of `comps` under `root` is a real directory, creating the
/// missing ones (0755, as Docker does), and refuses symlinks and non-directories.
pub fn ensure_parent_dirs(root: &Path, comps: &[&[u8]], entry: &[u8]) -> Result<PathBuf, Error> {
    let mut p = root.to_path_buf();
    for c in comps {
        p.push(OsStr::from_bytes(c));
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(m) if m.file_type().is_symlink() => {
                return Err(Error::unsafe_entry(entry, "parent is a symlink"))
            }
            Ok(_) => return Err(Error::unsafe_entry(entry, "parent is not a directory")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                use std::os::unix::fs::DirBuilderExt;
                std::fs::DirBuilder::new()
                    .mode(0o755)
                    .create(&p)
                    .ctx("mkdir", &p)?;
            }
            Err(e) => return Err(e).ctx("lstat", &p),
        }
    }
    Ok(p)
}

/// Like [`ensure_parent_dirs`] but creates nothing: `Ok(false)` if a component is missing.
pub fn parents_are_dirs(root: &Path, comps: &[&[u8]], entry: &[u8]) -> Result<bool, Error> {
    let mut p = root.to_path_buf();
    for c in comps {
        p.push(OsStr::from_bytes(c));
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => {
                return Err(Error::unsafe_entry(
                    entry,
                    "link target parent is not a directory",
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e).ctx("lstat", &p),
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_refuses_escapes() {
        assert_eq!(
            components(b"./a//b/./c").unwrap(),
            vec![&b"a"[..], b"b", b"c"]
        );
        assert!(components(b"a/../../x").is_err());
        assert!(components(b"/etc/passwd").is_err());
        assert!(components(b"..").is_err());
        assert_eq!(components(b"./").unwrap().len(), 0);
    }
}
