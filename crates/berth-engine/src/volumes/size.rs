//! A volume's size as moby's `directory.Size` counts it: the apparent size of everything
//! that is not a directory, a hard-linked file once, symlinks not followed.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

pub fn content_size(dir: &Path) -> io::Result<u64> {
    let mut total = 0u64;
    let mut seen = HashSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = match fs::read_dir(&d) {
            Ok(e) => e,
            // Gone while we walked: a container deleting files, which is fine.
            Err(e) if e.kind() == io::ErrorKind::NotFound && d != dir => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let meta = match entry.metadata() {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            if meta.is_dir() {
                stack.push(entry.path());
            } else if meta.len() > 0 && seen.insert((meta.dev(), meta.ino())) {
                total += meta.len();
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_files_once_and_not_directories() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("a/b")).unwrap();
        fs::write(d.join("f1"), vec![0u8; 1000]).unwrap();
        fs::write(d.join("a/b/f2"), vec![0u8; 24]).unwrap();
        fs::hard_link(d.join("f1"), d.join("a/hard")).unwrap();
        std::os::unix::fs::symlink("f1", d.join("link")).unwrap();
        // The symlink counts as its own length (2 bytes for "f1"), not as its target.
        assert_eq!(content_size(d).unwrap(), 1000 + 24 + 2);
        assert!(content_size(&d.join("missing")).is_err());
    }
}
