//! Performing the mounts a snapshotter returns, and undoing them.
//!
//! An overlay mount's option string must fit in one page. When the absolute lowerdirs do
//! not, the common parent directory is factored out (as containerd's mount helper does) and
//! the mount runs in a helper thread that first `unshare(CLONE_FS)`s, so its `chdir` to that
//! directory does not change the whole process's working directory.
//!
//! An overlay mount may carry `volatile` (no syncs of the upper layer, so its unmount does
//! not sync the whole host filesystem): honoured where the kernel has it, dropped where
//! it does not.

use std::path::{Path, PathBuf};

use berth_core::Mount;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

use crate::error::{Error, IoContext};

/// Largest option string the kernel accepts (one page, minus the trailing NUL).
const MAX_OPTIONS: usize = 4095;

/// Mounts `mounts` in order onto `target` (an existing directory).
pub fn mount_all(mounts: &[Mount], target: &Path) -> Result<(), Error> {
    for m in mounts {
        let dest = match &m.target {
            Some(sub) => target.join(sub.trim_start_matches('/')),
            None => target.to_path_buf(),
        };
        mount_one(m, &dest)?;
    }
    Ok(())
}

/// Unmounts `target` (lazily if it is busy is not attempted: a busy mount is an error).
pub fn unmount(target: &Path) -> Result<(), Error> {
    umount2(target, MntFlags::empty()).ctx("umount", target)
}

/// The overlay option that drops every sync of the upper layer (Linux 5.10+).
const VOLATILE: &str = "volatile";

fn mount_one(m: &Mount, dest: &Path) -> Result<(), Error> {
    if m.kind != "overlay" || !m.options.iter().any(|o| o == VOLATILE) {
        return mount_plain(m, dest);
    }
    // A volatile overlay leaves `<workdir>/work/incompat/volatile` behind, even after a
    // clean unmount, and the kernel refuses to mount that workdir again until it is gone
    // (the upper layer may have lost writes in a crash). Whoever asks for `volatile` does
    // not need the upper layer to survive a crash, so the marker is cleared.
    if let Some(workdir) = m.options.iter().find_map(|o| o.strip_prefix("workdir=")) {
        let _ = std::fs::remove_dir_all(Path::new(workdir).join("work/incompat/volatile"));
    }
    match mount_plain(m, dest) {
        // A kernel before 5.10 does not know the option: mount without it.
        Err(Error::Io { source, .. }) if source.raw_os_error() == Some(libc::EINVAL) => {
            let mut durable = m.clone();
            durable.options.retain(|o| o != VOLATILE);
            mount_plain(&durable, dest)
        }
        other => other,
    }
}

fn mount_plain(m: &Mount, dest: &Path) -> Result<(), Error> {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for o in &m.options {
        match o.as_str() {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => {}
            "bind" => flags |= MsFlags::MS_BIND,
            "rbind" => flags |= MsFlags::MS_BIND | MsFlags::MS_REC,
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            other => data.push(other.to_owned()),
        }
    }
    let data = data.join(",");
    if m.kind == "overlay" && data.len() > MAX_OPTIONS {
        let (dir, short) = compact_lowerdirs(&data);
        let (dir, dest) = (dir.to_path_buf(), dest.to_path_buf());
        let source = m.source.clone();
        return std::thread::spawn(move || -> Result<(), Error> {
            unshare(CloneFlags::CLONE_FS).ctx("unshare(CLONE_FS)", &dir)?;
            nix::unistd::chdir(&dir).ctx("chdir", &dir)?;
            mount(
                Some(source.as_str()),
                &dest,
                Some("overlay"),
                flags,
                Some(short.as_str()),
            )
            .ctx("mount overlay", &dest)
        })
        .join()
        .expect("mount helper thread does not panic");
    }
    let kind = if flags.contains(MsFlags::MS_BIND) {
        None
    } else {
        Some(m.kind.as_str())
    };
    let data = (!data.is_empty()).then_some(data.as_str());
    mount(Some(m.source.as_str()), dest, kind, flags, data).ctx("mount", dest)?;
    if flags.contains(MsFlags::MS_BIND) && flags.contains(MsFlags::MS_RDONLY) {
        // A bind mount ignores MS_RDONLY until remounted.
        mount(
            None::<&str>,
            dest,
            None::<&str>,
            flags | MsFlags::MS_REMOUNT,
            None::<&str>,
        )
        .ctx("remount ro", dest)?;
    }
    Ok(())
}

/// Rewrites `lowerdir=`, `upperdir=` and `workdir=` relative to the parent directory of the
/// lower layers' directory (`<root>/overlay`), which shortens `<root>/overlay/l/X` to `l/X`.
fn compact_lowerdirs(data: &str) -> (PathBuf, String) {
    let lower = data
        .split(',')
        .find_map(|o| o.strip_prefix("lowerdir="))
        .unwrap_or("");
    let first = Path::new(lower.split(':').next().unwrap_or("/"));
    // <root>/overlay/l/<short> → <root>/overlay
    let base = first
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("/"))
        .to_path_buf();
    let prefix = format!("{}/", base.display());
    let rewritten = data
        .split(',')
        .map(|o| match o.split_once('=') {
            Some((k @ ("lowerdir" | "upperdir" | "workdir"), v)) => {
                let v: Vec<&str> = v
                    .split(':')
                    .map(|p| p.strip_prefix(&prefix).unwrap_or(p))
                    .collect();
                format!("{k}={}", v.join(":"))
            }
            _ => o.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",");
    (base, rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_makes_paths_relative_to_the_overlay_dir() {
        let (base, data) = compact_lowerdirs(
            "lowerdir=/r/overlay/l/A:/r/overlay/l/B,upperdir=/r/overlay/act/u,workdir=/r/overlay/act/w,index=off",
        );
        assert_eq!(base, Path::new("/r/overlay"));
        assert_eq!(
            data,
            "lowerdir=l/A:l/B,upperdir=act/u,workdir=act/w,index=off"
        );
    }
}
