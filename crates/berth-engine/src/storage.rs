//! `DriverStatus` for `info`: facts about the filesystem under the data root. Which driver
//! is in use is the layer store's decision (`ImageService::driver`), not made here.

use std::path::Path;

/// The status pairs `docker info` prints under the storage driver.
pub fn driver_status(data_root: &Path, driver: &str) -> Vec<(String, String)> {
    let magic = nix::sys::statfs::statfs(data_root)
        .map(|s| s.filesystem_type().0)
        .unwrap_or(0);
    let mut status = vec![(
        "Backing Filesystem".to_owned(),
        backing_fs_name(magic).to_owned(),
    )];
    if driver == "overlay2" {
        // The layer store's probe mounted overlay with a whiteout, which needs d_type.
        status.push(("Supports d_type".to_owned(), "true".to_owned()));
    }
    status
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
    fn status_names_the_backing_fs_and_d_type_only_for_overlay() {
        // /dev/shm is tmpfs on Linux.
        let overlay = driver_status(Path::new("/dev/shm"), "overlay2");
        assert_eq!(
            overlay[0],
            ("Backing Filesystem".to_owned(), "tmpfs".to_owned())
        );
        assert_eq!(overlay.len(), 2);
        assert_eq!(driver_status(Path::new("/dev/shm"), "vfs").len(), 1);
    }
}
