//! What `HEAD /containers/{id}/archive` reports about a path: moby's `ContainerPathStat`,
//! with the mode in Go's `os.FileMode` bit layout (the docker CLI tests `IsDir()` and
//! `ModeSymlink` on it).

use std::io;

use rustix::fs::{FileType, Stat};

use crate::path;
use crate::root::Root;

/// Go's `os.FileMode` type bits.
pub mod go_mode {
    pub const DIR: u32 = 1 << 31;
    pub const APPEND: u32 = 1 << 30;
    pub const EXCLUSIVE: u32 = 1 << 29;
    pub const TEMPORARY: u32 = 1 << 28;
    pub const SYMLINK: u32 = 1 << 27;
    pub const DEVICE: u32 = 1 << 26;
    pub const NAMED_PIPE: u32 = 1 << 25;
    pub const SOCKET: u32 = 1 << 24;
    pub const SETUID: u32 = 1 << 23;
    pub const SETGID: u32 = 1 << 22;
    pub const CHAR_DEVICE: u32 = 1 << 21;
    pub const STICKY: u32 = 1 << 20;
}

/// `st_mode` → Go's `os.FileMode` (as `os.Lstat` builds it).
pub fn go_file_mode(st_mode: u32) -> u32 {
    let mut mode = st_mode & 0o777;
    mode |= match FileType::from_raw_mode(st_mode) {
        FileType::Directory => go_mode::DIR,
        FileType::Symlink => go_mode::SYMLINK,
        FileType::Fifo => go_mode::NAMED_PIPE,
        FileType::Socket => go_mode::SOCKET,
        FileType::CharacterDevice => go_mode::DEVICE | go_mode::CHAR_DEVICE,
        FileType::BlockDevice => go_mode::DEVICE,
        _ => 0,
    };
    if st_mode & 0o4000 != 0 {
        mode |= go_mode::SETUID;
    }
    if st_mode & 0o2000 != 0 {
        mode |= go_mode::SETGID;
    }
    if st_mode & 0o1000 != 0 {
        mode |= go_mode::STICKY;
    }
    mode
}

/// One path's stat, as the archive API reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    /// The last element of the requested path (`.` for `dir/.`, `/` for the root).
    pub name: String,
    pub size: i64,
    /// Go `os.FileMode` bits.
    pub mode: u32,
    /// Modification time: seconds and nanoseconds since the epoch.
    pub mtime: (i64, u32),
    /// For a symlink, its target fully resolved inside the root; else empty.
    pub link_target: String,
}

impl PathStat {
    pub fn is_dir(&self) -> bool {
        self.mode & go_mode::DIR != 0
    }
}

/// Stats `abs_path` (a [`path::container_path`]) inside `root` as moby's
/// `containerFSView.Stat` does: `lstat`, the final symlink followed only when a trailing
/// `/` or `/.` asks for it.
pub fn stat_path(root: &Root, abs_path: &[u8]) -> io::Result<PathStat> {
    let st = root.lstat(abs_path)?;
    path_stat(root, abs_path, &st)
}

pub(crate) fn path_stat(root: &Root, abs_path: &[u8], st: &Stat) -> io::Result<PathStat> {
    let link_target = if FileType::from_raw_mode(st.st_mode) == FileType::Symlink {
        String::from_utf8_lossy(&root.resolve(abs_path)?).into_owned()
    } else {
        String::new()
    };
    Ok(PathStat {
        name: String::from_utf8_lossy(path::base(abs_path)).into_owned(),
        size: st.st_size,
        mode: go_file_mode(st.st_mode),
        mtime: (st.st_mtime, st.st_mtime_nsec as u32),
        link_target,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_modes_match_os_filemode() {
        assert_eq!(go_file_mode(0o040755), (1 << 31) | 0o755);
        assert_eq!(go_file_mode(0o120777), (1 << 27) | 0o777);
        assert_eq!(go_file_mode(0o100644), 0o644);
        assert_eq!(go_file_mode(0o104755), (1 << 23) | 0o755);
        assert_eq!(go_file_mode(0o041777), (1 << 31) | (1 << 20) | 0o777);
        assert_eq!(go_file_mode(0o020666), (1 << 26) | (1 << 21) | 0o666);
        assert_eq!(go_file_mode(0o060660), (1 << 26) | 0o660);
        assert_eq!(go_file_mode(0o010644), (1 << 25) | 0o644);
    }

    #[test]
    fn stat_names_and_link_targets() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("d")).unwrap();
        std::fs::write(root.path().join("d/f"), b"12345").unwrap();
        std::os::unix::fs::symlink("/d", root.path().join("l")).unwrap();
        std::os::unix::fs::symlink("/", root.path().join("escape")).unwrap();
        let r = Root::open(root.path()).unwrap();
        let f = stat_path(&r, b"/d/f").unwrap();
        assert_eq!((f.name.as_str(), f.size, f.mode), ("f", 5, 0o644));
        let l = stat_path(&r, b"/l").unwrap();
        assert_eq!(l.mode & go_mode::SYMLINK, go_mode::SYMLINK);
        assert_eq!(l.link_target, "/d");
        let followed = stat_path(&r, b"/l/").unwrap();
        assert!(followed.is_dir());
        assert_eq!(followed.name, "l");
        assert_eq!(stat_path(&r, b"/d/.").unwrap().name, ".");
        assert_eq!(stat_path(&r, b"/").unwrap().name, "/");
        assert_eq!(stat_path(&r, b"/escape").unwrap().link_target, "/");
        let missing = stat_path(&r, b"/nope").unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
