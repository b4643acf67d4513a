//! One daemon per data root: an exclusive `flock` on `<data-root>/berth.lock`, held for
//! the daemon's life. The kernel drops it when the process dies, so a `kill -9` leaves no
//! stale lock behind. Also the pidfile, which is informational only.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another berth daemon{} is already using data root {}", pid.map(|p| format!(" (pid {p})")).unwrap_or_default(), path.display())]
    Held { path: PathBuf, pid: Option<u32> },
    #[error("pid file found, ensure berth daemon is not running or delete {}", .0.display())]
    PidfileInUse(PathBuf),
    #[error("{op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> LockError + 'a {
    move |source| LockError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// The held lock; dropping it releases the data root.
pub struct DataRootLock {
    _lock: Flock<File>,
}

impl DataRootLock {
    pub fn acquire(data_root: &Path) -> Result<Self, LockError> {
        let path = data_root.join("berth.lock");
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err("open", &path))?;
        let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((mut file, _)) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                return Err(LockError::Held {
                    path: data_root.to_owned(),
                    pid: text.trim().parse().ok(),
                });
            }
        };
        // Record who holds it, so the next one can say so.
        let pid = std::process::id().to_string();
        lock.set_len(0).map_err(io_err("truncate", &path))?;
        lock.seek(SeekFrom::Start(0))
            .map_err(io_err("seek", &path))?;
        lock.write_all(pid.as_bytes())
            .map_err(io_err("write", &path))?;
        Ok(Self { _lock: lock })
    }
}

/// Writes our PID to `path`, refusing when it names another live berth process.
pub fn write_pidfile(path: &Path) -> Result<(), LockError> {
    if let Ok(text) = fs::read_to_string(path) {
        if let Ok(pid) = text.trim().parse::<u32>() {
            if pid != std::process::id() && is_live_berth(pid) {
                return Err(LockError::PidfileInUse(path.to_owned()));
            }
        }
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io_err("create", dir))?;
    }
    berth_engine::fsutil::atomic_write(path, format!("{}\n", std::process::id()).as_bytes(), 0o644)
        .map_err(io_err("write", path))
}

/// A stale pidfile from a killed daemon names a dead (or recycled, non-berth) PID.
fn is_live_berth(pid: u32) -> bool {
    fs::read_link(format!("/proc/{pid}/exe"))
        .ok()
        .and_then(|exe| {
            exe.file_name()
                .map(|n| n.to_string_lossy().starts_with("berth"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_root_fails_and_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataRootLock::acquire(dir.path()).unwrap();
        match DataRootLock::acquire(dir.path()) {
            Err(LockError::Held { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {:?}", other.err()),
        }
        drop(first);
        DataRootLock::acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_stale_pidfile_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run/berthd.pid");
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        // PID 1 is never a berth process in the test environment.
        fs::write(&p, "1\n").unwrap();
        write_pidfile(&p).unwrap();
        assert_eq!(
            fs::read_to_string(&p).unwrap().trim(),
            std::process::id().to_string()
        );
    }
}
