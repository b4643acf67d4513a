//! Deciding at open time whether overlayfs works under the data root.

use std::fs;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sys::statfs::{statfs, OVERLAYFS_SUPER_MAGIC};

/// True if the data root is not itself on overlayfs and a test overlay mount (with a
/// whiteout device in the upper dir) succeeds there.
pub fn overlay_works(data_root: &Path) -> bool {
    if fs::create_dir_all(data_root).is_err() {
        return false;
    }
    match statfs(data_root) {
        Ok(s) if s.filesystem_type() == OVERLAYFS_SUPER_MAGIC => {
            tracing::info!("data root is on overlayfs; using the vfs driver");
            return false;
        }
        Err(_) => return false,
        Ok(_) => {}
    }
    let Ok(dir) = tempfile_dir(data_root) else {
        return false;
    };
    let ok = try_mount(&dir);
    let _ = fs::remove_dir_all(&dir);
    ok
}

fn tempfile_dir(root: &Path) -> std::io::Result<std::path::PathBuf> {
    let dir = root.join(format!(".overlay-probe-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    for sub in ["lower", "upper", "work", "merged"] {
        fs::create_dir_all(dir.join(sub))?;
    }
    fs::write(dir.join("lower/f"), b"x")?;
    Ok(dir)
}

fn try_mount(dir: &Path) -> bool {
    let opts = format!(
        "lowerdir={},upperdir={},workdir={}",
        dir.join("lower").display(),
        dir.join("upper").display(),
        dir.join("work").display()
    );
    let merged = dir.join("merged");
    if let Err(e) = mount(
        Some("overlay"),
        &merged,
        Some("overlay"),
        MsFlags::empty(),
        Some(opts.as_str()),
    ) {
        tracing::info!("overlay probe mount failed ({e}); using the vfs driver");
        return false;
    }
    // Deleting a lower file must produce a whiteout device in the upper dir.
    let ok = fs::remove_file(merged.join("f")).is_ok();
    let _ = umount2(&merged, MntFlags::MNT_DETACH);
    ok
}
