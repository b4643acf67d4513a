//! IPC modes as moby runs them (daemon/container_operations_unix.go `setupIPCDirs`,
//! `getIPCContainer`; oci_linux.go's ipc namespace and /dev/shm handling):
//!
//! - `private`: a new IPC namespace and a /dev/shm tmpfs mounted inside the container;
//! - `shareable`: a new IPC namespace, and /dev/shm is a tmpfs the daemon mounts on the host
//!   at `<container dir>/mounts/shm` (ShmSize, mode 1777, nosuid,nodev,noexec) and binds in,
//!   so another container can bind the same one;
//! - `container:X`: X's IPC namespace and X's /dev/shm (X must run and be shareable or host);
//! - `host`: the host's namespace and the host's /dev/shm;
//! - `none`: a new namespace and no /dev/shm at all.
//!
//! The host tmpfs lives from start to exit (and is unmounted again at rm and by restore, so
//! a daemon crash cannot leak it).

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use berth_core::ErrorKind;
use berth_runtime::{DevShm, NamespaceMode};
use nix::mount::{MntFlags, MsFlags};

use super::internal;
use super::record::{ContainerPaths, ContainerRecord, Status};
use crate::error::EngineError;
use crate::Engine;

/// Donors are followed through `container:` chains at most this far.
const MAX_DONOR_CHAIN: usize = 8;

/// A container's `HostConfig.IpcMode`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IpcMode<'a> {
    Private,
    Shareable,
    Host,
    None,
    Container(&'a str),
}

impl<'a> IpcMode<'a> {
    /// `None` for a mode moby rejects. An empty mode is `private`: records written before
    /// Berth recorded the mode ran that way (the default is filled in at create).
    pub fn parse(mode: &'a str) -> Option<Self> {
        match mode {
            "" | "private" => Some(Self::Private),
            "shareable" => Some(Self::Shareable),
            "host" => Some(Self::Host),
            "none" => Some(Self::None),
            m => m.strip_prefix("container:").map(Self::Container),
        }
    }

    fn of(rec: &'a ContainerRecord) -> Self {
        Self::parse(rec.host_config.ipc_mode.as_deref().unwrap_or("")).unwrap_or(Self::Private)
    }
}

/// The daemon's `--default-ipc-mode` check (moby's `verifyDefaultIpcMode`).
pub fn check_default_mode(mode: &str) -> Result<(), String> {
    const HINT: &str = r#"use "shareable" or "private""#;
    match IpcMode::parse(mode) {
        None => Err(format!(
            "default IPC mode setting ({mode}) is invalid; {HINT}"
        )),
        Some(IpcMode::Private | IpcMode::Shareable) => Ok(()),
        Some(_) => Err(format!(
            r#"IPC mode "{mode}" is not supported as default value; {HINT}"#
        )),
    }
}

/// What a start gives the runtime for IPC.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct IpcSetup {
    pub namespace: NamespaceMode,
    pub dev_shm: DevShm,
}

/// Where a shareable container's /dev/shm tmpfs is mounted on the host.
pub(crate) fn shm_path(paths: &ContainerPaths) -> PathBuf {
    paths.data.join("mounts").join("shm")
}

/// The user mounts something at /dev/shm themselves (moby's `HasMountFor`).
fn has_own_dev_shm(rec: &ContainerRecord) -> bool {
    rec.mount_points.iter().any(|m| m.destination == "/dev/shm")
        || rec
            .host_config
            .tmpfs
            .as_ref()
            .is_some_and(|t| t.contains_key("/dev/shm"))
}

/// Prepares `rec`'s IPC for a start: mounts a shareable container's tmpfs, or checks and
/// resolves the donor of a `container:X` one. Undo with [`teardown`].
pub(crate) fn setup(
    engine: &Engine,
    rec: &ContainerRecord,
    paths: &ContainerPaths,
) -> Result<IpcSetup, EngineError> {
    match IpcMode::of(rec) {
        IpcMode::Private => Ok(IpcSetup::default()),
        IpcMode::None => Ok(IpcSetup {
            namespace: NamespaceMode::Private,
            dev_shm: DevShm::None,
        }),
        IpcMode::Host => {
            if !Path::new("/dev/shm").exists() {
                return Err(internal(
                    "/dev/shm is not mounted, but must be for --ipc=host",
                ));
            }
            Ok(IpcSetup {
                namespace: NamespaceMode::Host,
                dev_shm: DevShm::Bind("/dev/shm".into()),
            })
        }
        IpcMode::Shareable if has_own_dev_shm(rec) => Ok(IpcSetup::default()),
        IpcMode::Shareable => {
            let size = rec
                .host_config
                .shm_size
                .filter(|s| *s > 0)
                .map_or(berth_runtime::defaults::SHM_SIZE, |s| s as u64);
            let path = shm_path(paths);
            mount_shm(&path, size)?;
            Ok(IpcSetup {
                namespace: NamespaceMode::Private,
                dev_shm: DevShm::Bind(path),
            })
        }
        IpcMode::Container(donor) => {
            let (pid, shm) = donor_of(engine, donor)
                .map_err(|e| e.prefixed("failed to join IPC namespace: "))?;
            Ok(IpcSetup {
                namespace: NamespaceMode::Join(format!("/proc/{pid}/ns/ipc").into()),
                dev_shm: DevShm::Bind(shm),
            })
        }
    }
}

/// A donor's error before the "failed to join IPC namespace" prefix.
struct DonorError(ErrorKind, String);

impl DonorError {
    fn prefixed(self, prefix: &str) -> EngineError {
        EngineError::Other(self.0, format!("{prefix}{}", self.1))
    }
}

/// moby's `getIPCContainer`: the donor must exist, run, not be restarting, and have a
/// /dev/shm others can bind. Returns its PID and that directory.
fn donor_of(engine: &Engine, donor: &str) -> Result<(i64, PathBuf), DonorError> {
    let c = engine
        .containers
        .get(donor)
        .map_err(|e| DonorError(ErrorKind::InvalidParameter, e.to_string()))?;
    let rec = c.snapshot();
    if rec.state.status == Status::Restarting {
        return Err(DonorError(
            ErrorKind::Conflict,
            format!("Container {donor} is restarting, wait until the container is running"),
        ));
    }
    if !rec.state.running() || rec.state.pid <= 0 {
        return Err(DonorError(
            ErrorKind::Conflict,
            format!("container {donor} is not running"),
        ));
    }
    match shared_shm(engine, &rec, &c.paths, 0) {
        Some(dir) if dir.is_dir() => Ok((rec.state.pid, dir)),
        _ => Err(DonorError(
            ErrorKind::InvalidParameter,
            format!("container {donor}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)"),
        )),
    }
}

/// The /dev/shm a running container offers to joiners (moby's `ShmPath`): its own tmpfs
/// when shareable, the host's when `host`, its donor's when it joined one.
fn shared_shm(
    engine: &Engine,
    rec: &ContainerRecord,
    paths: &ContainerPaths,
    depth: usize,
) -> Option<PathBuf> {
    match IpcMode::of(rec) {
        IpcMode::Shareable if !has_own_dev_shm(rec) => Some(shm_path(paths)),
        IpcMode::Host => Some("/dev/shm".into()),
        IpcMode::Container(next) if depth < MAX_DONOR_CHAIN => {
            let c = engine.containers.get(next).ok()?;
            let next_rec = c.snapshot();
            shared_shm(engine, &next_rec, &c.paths, depth + 1)
        }
        _ => None,
    }
}

fn mount_shm(path: &Path, size: u64) -> Result<(), EngineError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| EngineError::io("create directory", path, e))?;
    // A tmpfs a crash left here would be shadowed, not reused: start from a fresh one.
    unmount_all(path);
    let data = format!("mode=1777,size={size}");
    nix::mount::mount(
        Some("shm"),
        path,
        Some("tmpfs"),
        MsFlags::MS_NOEXEC | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(data.as_str()),
    )
    .map_err(|e| internal(format!("mounting shm tmpfs: {e}")))
}

/// Unmounts every mount stacked at `path` (detached, as moby's `mount.Unmount`).
fn unmount_all(path: &Path) {
    for _ in 0..16 {
        if nix::mount::umount2(path, MntFlags::MNT_DETACH).is_err() {
            break;
        }
    }
}

/// Unmounts a shareable container's tmpfs, if it has one (moby's `UnmountIpcMount`):
/// at exit, at a failed start, at rm, and for exits restore finds. Only this container's
/// own path is touched, never a donor's or the host's /dev/shm.
pub(crate) fn teardown(paths: &ContainerPaths) {
    let path = shm_path(paths);
    if !path.exists() {
        return;
    }
    unmount_all(&path);
    let _ = std::fs::remove_dir(&path);
    let _ = std::fs::remove_dir(paths.data.join("mounts"));
}

/// moby's `adaptSharedNamespaceContainer` for IPC: `container:<name>` is recorded as
/// `container:<id>`, so a rename of the donor does not break the joiner.
pub(crate) fn pin_donor(engine: &Engine, mode: &mut Option<String>) {
    let Some(IpcMode::Container(donor)) = mode.as_deref().and_then(IpcMode::parse) else {
        return;
    };
    if let Ok(c) = engine.containers.get(donor) {
        *mode = Some(format!("container:{}", c.id));
    }
}

/// Fills in the daemon's default mode when the request has none.
pub(crate) fn fill_default(mode: &mut Option<String>, default: &str) {
    if mode.as_deref().unwrap_or("").is_empty() {
        *mode = Some(default.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_as_mobys() {
        assert_eq!(IpcMode::parse(""), Some(IpcMode::Private));
        assert_eq!(IpcMode::parse("shareable"), Some(IpcMode::Shareable));
        assert_eq!(IpcMode::parse("none"), Some(IpcMode::None));
        assert_eq!(
            IpcMode::parse("container:ab"),
            Some(IpcMode::Container("ab"))
        );
        assert_eq!(IpcMode::parse("bogus"), None);
    }

    #[test]
    fn only_private_and_shareable_can_be_the_default() {
        check_default_mode("private").unwrap();
        check_default_mode("shareable").unwrap();
        assert_eq!(
            check_default_mode("host").unwrap_err(),
            r#"IPC mode "host" is not supported as default value; use "shareable" or "private""#
        );
        assert_eq!(
            check_default_mode("bogus").unwrap_err(),
            r#"default IPC mode setting (bogus) is invalid; use "shareable" or "private""#
        );
    }

    #[test]
    fn an_empty_mode_gets_the_daemon_default() {
        let mut m = None;
        fill_default(&mut m, "shareable");
        assert_eq!(m.as_deref(), Some("shareable"));
        let mut m = Some("host".to_owned());
        fill_default(&mut m, "shareable");
        assert_eq!(m.as_deref(), Some("host"));
    }
}
