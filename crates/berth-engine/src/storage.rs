//! Which storage driver the data root supports, until the layer store reports its own.

use std::path::Path;

const OVERLAYFS_SUPER_MAGIC: i64 = 0x794c_7630;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageFacts {
    pub driver: String,
    pub status: Vec<(String, String)>,
}

/// overlay2 needs a backing filesystem that is not itself overlayfs; otherwise the copying
/// driver (vfs) is used.
pub fn probe(data_root: &Path) -> StorageFacts {
    let magic = nix::sys::statfs::statfs(data_root)
        .map(|s| s.filesystem_type().0)
        .unwrap_or(0);
    let backing = backing_fs_name(magic);
    let driver = if magic == OVERLAYFS_SUPER_MAGIC {
        "vfs"
    } else {
        "overlay2"
    };
    let mut status = vec![("Backing Filesystem".to_owned(), backing.to_owned())];
    if driver == "overlay2" {
        status.push(("Supports d_type".to_owned(), "true".to_owned()));
    }
    StorageFacts {
        driver: driver.to_owned(),
        status,
    }
}

/// moby's names for filesystem magics (`pkg/fsutils`).
fn backing_fs_name(magic: i64) -> &'static str {
    match magic {
        0xEF53 => "extfs",
        0x5846_5342 => "xfs",
        0x9123_683E => "btrfs",
        0x0102_1994 => "tmpfs",
        0x794c_7630 => "overlayfs",
        0x2FC1_2FC1 => "zfs",
        _ => "<unknown>",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_known_filesystems() {
        assert_eq!(backing_fs_name(0xEF53), "extfs");
        assert_eq!(backing_fs_name(0x0102_1994), "tmpfs");
        assert_eq!(backing_fs_name(7), "<unknown>");
    }

    #[test]
    fn tmpfs_data_root_can_use_overlay() {
        // /dev/shm is tmpfs on Linux: overlay works on it.
        let facts = probe(Path::new("/dev/shm"));
        assert_eq!(facts.driver, "overlay2");
        assert_eq!(
            facts.status[0],
            ("Backing Filesystem".to_owned(), "tmpfs".to_owned())
        );
    }
}
