//! The file under a log driver: appends whole entries with one `write(2)` each (so a
//! reader never sees interleaved halves) and rotates by size as moby's
//! `loggerutils.LogFile` does: before writing, once the file holds at least `max_size`
//! bytes, `path.{n-2}` → `path.{n-1}`, …, `path` → `path.1`, and a fresh `path` is created
//! (with `max_file` 1 the old file is unlinked instead).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::RotateOptions;

/// moby creates log files 0640.
const LOG_FILE_MODE: u32 = 0o640;

#[derive(Debug)]
pub(crate) struct RotatingFile {
    path: PathBuf,
    file: File,
    size: u64,
    opts: RotateOptions,
}

/// `path.N`, the N-th most recent rotated file.
pub(crate) fn rotated_path(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

impl RotatingFile {
    pub fn open(path: &Path, opts: RotateOptions) -> io::Result<Self> {
        let file = open_log(path, false)?;
        let size = file.metadata()?.len();
        Ok(RotatingFile {
            path: path.to_path_buf(),
            file,
            size,
            opts,
        })
    }

    /// Writes one encoded entry, rotating first if the file is full.
    pub fn write_entry(&mut self, entry: &[u8]) -> io::Result<()> {
        if self.opts.max_size.is_some_and(|max| self.size >= max) {
            self.rotate()?;
        }
        self.file.write_all(entry)?;
        self.size += entry.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        let keep = self.opts.max_file.max(1);
        if keep < 2 {
            remove_if_exists(&self.path)?;
        } else {
            remove_if_exists(&rotated_path(&self.path, keep - 1))?;
            for n in (2..keep).rev() {
                rename_if_exists(
                    &rotated_path(&self.path, n - 1),
                    &rotated_path(&self.path, n),
                )?;
            }
            rename_if_exists(&self.path, &rotated_path(&self.path, 1))?;
        }
        self.file = open_log(&self.path, true)?;
        self.size = 0;
        tracing::debug!(path = %self.path.display(), "rotated log file");
        Ok(())
    }
}

fn open_log(path: &Path, truncate: bool) -> io::Result<File> {
    let mut opts = OpenOptions::new();
    if truncate {
        opts.write(true).truncate(true);
    } else {
        opts.append(true);
    }
    opts.create(true).mode(LOG_FILE_MODE).open(path)
}

fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

fn rename_if_exists(from: &Path, to: &Path) -> io::Result<()> {
    match fs::rename(from, to) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_default()
    }

    #[test]
    fn rotates_before_the_write_that_finds_the_file_full() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let opts = RotateOptions {
            max_size: Some(4),
            max_file: 3,
        };
        let mut f = RotatingFile::open(&path, opts).unwrap();
        for entry in ["aa\n", "bb\n", "cc\n", "dd\n", "ee\n", "ff\n"] {
            f.write_entry(entry.as_bytes()).unwrap();
        }
        // Each file exceeds 4 bytes by at most one entry; only 3 files are kept.
        assert_eq!(read(&path), "ee\nff\n");
        assert_eq!(read(&rotated_path(&path, 1)), "cc\ndd\n");
        assert_eq!(read(&rotated_path(&path, 2)), "aa\nbb\n");
        assert!(!rotated_path(&path, 3).exists());
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o640, 0, "mode {mode:o}");
    }

    #[test]
    fn max_file_one_starts_afresh_and_reopen_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.log");
        let opts = RotateOptions {
            max_size: Some(3),
            max_file: 1,
        };
        let mut f = RotatingFile::open(&path, opts).unwrap();
        f.write_entry(b"one\n").unwrap();
        drop(f);
        let mut f = RotatingFile::open(&path, opts).unwrap();
        assert_eq!(read(&path), "one\n");
        f.write_entry(b"two\n").unwrap();
        assert_eq!(read(&path), "two\n");
        assert!(!rotated_path(&path, 1).exists());
    }
}
