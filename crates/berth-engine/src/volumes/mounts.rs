//! The kernel side of a volume with `type`/`device` options: its `o` string split into
//! mount flags and filesystem data (moby/sys/mount's `parseOptions`), mount(2) on `_data`,
//! the detaching unmount, and what /proc/self/mountinfo says is mounted.

use std::path::{Path, PathBuf};

use nix::mount::{MntFlags, MsFlags};

/// Propagation flags: applied by a second mount(2) call, as the kernel wants them alone.
const PROPAGATION: MsFlags = MsFlags::MS_SHARED
    .union(MsFlags::MS_PRIVATE)
    .union(MsFlags::MS_SLAVE)
    .union(MsFlags::MS_UNBINDABLE);

/// `(name, clears, flag)` for each option that is a flag rather than filesystem data.
const FLAGS: &[(&str, bool, MsFlags)] = &[
    ("defaults", false, MsFlags::empty()),
    ("ro", false, MsFlags::MS_RDONLY),
    ("rw", true, MsFlags::MS_RDONLY),
    ("suid", true, MsFlags::MS_NOSUID),
    ("nosuid", false, MsFlags::MS_NOSUID),
    ("dev", true, MsFlags::MS_NODEV),
    ("nodev", false, MsFlags::MS_NODEV),
    ("exec", true, MsFlags::MS_NOEXEC),
    ("noexec", false, MsFlags::MS_NOEXEC),
    ("sync", false, MsFlags::MS_SYNCHRONOUS),
    ("async", true, MsFlags::MS_SYNCHRONOUS),
    ("dirsync", false, MsFlags::MS_DIRSYNC),
    ("remount", false, MsFlags::MS_REMOUNT),
    ("mand", false, MsFlags::MS_MANDLOCK),
    ("nomand", true, MsFlags::MS_MANDLOCK),
    ("atime", true, MsFlags::MS_NOATIME),
    ("noatime", false, MsFlags::MS_NOATIME),
    ("diratime", true, MsFlags::MS_NODIRATIME),
    ("nodiratime", false, MsFlags::MS_NODIRATIME),
    ("bind", false, MsFlags::MS_BIND),
    ("rbind", false, MsFlags::MS_BIND.union(MsFlags::MS_REC)),
    ("unbindable", false, MsFlags::MS_UNBINDABLE),
    (
        "runbindable",
        false,
        MsFlags::MS_UNBINDABLE.union(MsFlags::MS_REC),
    ),
    ("private", false, MsFlags::MS_PRIVATE),
    (
        "rprivate",
        false,
        MsFlags::MS_PRIVATE.union(MsFlags::MS_REC),
    ),
    ("shared", false, MsFlags::MS_SHARED),
    ("rshared", false, MsFlags::MS_SHARED.union(MsFlags::MS_REC)),
    ("slave", false, MsFlags::MS_SLAVE),
    ("rslave", false, MsFlags::MS_SLAVE.union(MsFlags::MS_REC)),
    ("relatime", false, MsFlags::MS_RELATIME),
    ("norelatime", true, MsFlags::MS_RELATIME),
    ("strictatime", false, MsFlags::MS_STRICTATIME),
    ("nostrictatime", true, MsFlags::MS_STRICTATIME),
];

/// Splits `o` into flags and the comma-joined rest, which goes to the filesystem.
pub fn parse_options(options: &str) -> (MsFlags, String) {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for opt in options.split(',').filter(|o| !o.is_empty()) {
        match FLAGS.iter().find(|(name, _, _)| *name == opt) {
            Some((_, true, f)) => flags.remove(*f),
            Some((_, false, f)) => flags.insert(*f),
            None => data.push(opt),
        }
    }
    (flags, data.join(","))
}

/// Go's lower-case errno text (`invalid argument`), from the C library's.
fn errno_text(e: nix::errno::Errno) -> String {
    let desc = e.desc();
    let mut chars = desc.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => desc.to_owned(),
    }
}

/// moby's `mountError` text: `mount tmpfs:/path, flags: 0x…, data: …: invalid argument`.
fn mount_error(
    source: &str,
    target: &Path,
    flags: MsFlags,
    data: &str,
    e: nix::errno::Errno,
) -> String {
    let mut out = String::from("mount ");
    if !source.is_empty() {
        out.push_str(source);
        out.push(':');
    }
    out.push_str(&target.display().to_string());
    if !flags.is_empty() {
        out.push_str(&format!(", flags: {:#x}", flags.bits()));
    }
    if !data.is_empty() {
        out.push_str(&format!(", data: {data}"));
    }
    out.push_str(": ");
    out.push_str(&errno_text(e));
    out
}

/// mount(2) of `device` (type `fstype`, options `o`) on `target`, as moby/sys/mount does:
/// the mount, then the propagation change, then a read-only remount for a bind.
pub fn mount(device: &str, target: &Path, fstype: &str, o: &str) -> Result<(), String> {
    let (flags, data) = parse_options(o);
    let plain = flags.difference(PROPAGATION);
    let fstype = (!fstype.is_empty()).then_some(fstype);
    let data_arg = (!data.is_empty()).then_some(data.as_str());
    if !plain.contains(MsFlags::MS_REMOUNT) || !data.is_empty() {
        nix::mount::mount(Some(device), target, fstype, plain, data_arg)
            .map_err(|e| mount_error(device, target, plain, &data, e))?;
    }
    if flags.intersects(PROPAGATION) {
        let p = flags.intersection(PROPAGATION.union(MsFlags::MS_REC));
        nix::mount::mount(None::<&str>, target, None::<&str>, p, None::<&str>)
            .map_err(|e| mount_error("", target, p, "", e))?;
    }
    let bind_ro = MsFlags::MS_BIND.union(MsFlags::MS_RDONLY);
    if plain.contains(bind_ro) {
        let f = plain.union(MsFlags::MS_REMOUNT);
        nix::mount::mount(None::<&str>, target, None::<&str>, f, None::<&str>)
            .map_err(|e| mount_error("", target, f, "", e))?;
    }
    Ok(())
}

/// Detaches whatever is mounted on `target`; not mounted is fine.
pub fn unmount(target: &Path) -> Result<(), String> {
    match nix::mount::umount2(target, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => {
            if is_mountpoint(target) {
                return Err(format!("unmount {}: {}", target.display(), errno_text(e)));
            }
        }
    }
    if is_mountpoint(target) {
        return Err(format!("unmount {}: still mounted", target.display()));
    }
    Ok(())
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|b| (b'0'..=b'7').contains(b)))
            .map(|d| d.iter().fold(0u32, |acc, b| acc * 8 + u32::from(b - b'0')));
        match octal {
            Some(v) if v <= 0xff => {
                out.push(v as u8);
                i += 4;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Every mount point in this process's mount namespace.
fn mount_points() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape(p)))
        .collect()
}

pub fn is_mountpoint(path: &Path) -> bool {
    mount_points().iter().any(|p| p == path)
}

/// Mount points at or below `dir`.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    mount_points()
        .into_iter()
        .filter(|p| p.starts_with(dir))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_split_into_flags_and_data() {
        let (flags, data) = parse_options("size=1m,ro,nosuid,uid=1000,rw,rshared");
        assert_eq!(
            flags,
            MsFlags::MS_NOSUID | MsFlags::MS_SHARED | MsFlags::MS_REC
        );
        assert_eq!(data, "size=1m,uid=1000");
        assert_eq!(parse_options("bind"), (MsFlags::MS_BIND, String::new()));
        assert_eq!(parse_options(""), (MsFlags::empty(), String::new()));
    }

    #[test]
    fn errors_read_like_mobys() {
        let msg = mount_error(
            "tmpfs",
            Path::new("/v/_data"),
            MsFlags::MS_NOSUID,
            "size=x",
            nix::errno::Errno::EINVAL,
        );
        assert_eq!(
            msg,
            "mount tmpfs:/v/_data, flags: 0x2, data: size=x: invalid argument"
        );
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape("/a\\040b\\134c"), "/a b\\c");
        assert_eq!(unescape("/plain"), "/plain");
        assert!(is_mountpoint(Path::new("/")));
        assert!(!mounts_under(Path::new("/")).is_empty());
    }
}
