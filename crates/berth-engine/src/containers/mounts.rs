//! A container's binds, volumes and tmpfs mounts, with moby's parsing rules
//! (`daemon/volume/mounts/linux_parser.go`): `register` at create turns `Binds`,
//! `Mounts`, `VolumesFrom` and the config's `Volumes` into [`MountPoint`]s (creating and
//! referencing volumes); `setup` at start makes each destination inside the root (never
//! through a symlink out of it), fills new volumes from the image, and returns the OCI
//! mounts; `teardown` at exit and `unregister` at rm undo their halves.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use berth_api::events::event_type;
use berth_api::models::{ContainerConfig, HostConfig, Mount, MountTypeEnum};
use serde_json::{json, Value};

use super::record::{ContainerRecord, MountKind, MountPoint};
use super::rootfs;
use crate::error::EngineError;
use crate::volumes::{VolumeCreate, ANONYMOUS_LABEL};
use crate::Engine;

fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::InvalidParameter(msg.into())
}

const PROPAGATIONS: &[&str] = &[
    "private", "rprivate", "slave", "rslave", "shared", "rshared",
];
const DEFAULT_PROPAGATION: &str = "rprivate";

/// moby's `linuxValidMountMode`: at most one of each kind of option.
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let mut counts = [0u8; 5];
    for o in mode.split(',') {
        let kind = match o {
            "rw" | "ro" => 0,
            "z" | "Z" => 1,
            p if PROPAGATIONS.contains(&p) => 2,
            "nocopy" => 3,
            "consistent" | "cached" | "delegated" => 4,
            _ => return false,
        };
        counts[kind] += 1;
    }
    counts.iter().all(|c| *c <= 1)
}

fn mode_propagation(mode: &str) -> Option<&str> {
    mode.split(',').find(|o| PROPAGATIONS.contains(o))
}

/// Go's `path.Clean`.
fn clean(p: &str) -> String {
    String::from_utf8_lossy(&berth_rootfs::path::clean(p.as_bytes())).into_owned()
}

fn check_target(target: &str) -> Result<String, String> {
    if !target.starts_with('/') {
        return Err(format!(
            "invalid mount path: '{target}' mount path must be absolute"
        ));
    }
    let cleaned = clean(target);
    if cleaned == "/" {
        return Err("invalid specification: destination can't be '/'".into());
    }
    Ok(cleaned)
}

/// One `Binds` entry (`src:dst[:mode]`, `/dst`).
fn parse_bind(raw: &str) -> Result<MountPoint, EngineError> {
    let spec_err = || invalid(format!("invalid volume specification: '{raw}'"));
    let parts: Vec<&str> = raw.splitn(4, ':').collect();
    if parts[0].is_empty() {
        return Err(spec_err());
    }
    let (source, target, mode) = match parts.as_slice() {
        [t] => ("", *t, ""),
        [s, t] => {
            if valid_mode(t) {
                return Err(spec_err());
            }
            (*s, *t, "")
        }
        [s, t, m] => (*s, *t, *m),
        _ => return Err(spec_err()),
    };
    if !valid_mode(mode) {
        return Err(invalid(format!("invalid mode: {mode}")));
    }
    let kind = if source.starts_with('/') {
        MountKind::Bind
    } else {
        MountKind::Volume
    };
    let destination = check_target(target).map_err(|e| {
        invalid(format!(
            "invalid volume specification: '{raw}': invalid mount config for type \"{}\": {e}",
            kind.as_str()
        ))
    })?;
    let mut mp = MountPoint {
        kind,
        destination,
        mode: mode.to_owned(),
        rw: !mode.split(',').any(|o| o == "ro"),
        copy_data: !mode.split(',').any(|o| o == "nocopy"),
        ..Default::default()
    };
    match kind {
        MountKind::Bind => {
            mp.source = clean(source);
            mp.propagation = mode_propagation(mode)
                .unwrap_or(DEFAULT_PROPAGATION)
                .to_owned();
            mp.copy_data = false;
        }
        _ => {
            mp.name = source.to_owned();
            mp.anonymous = source.is_empty();
        }
    }
    Ok(mp)
}

fn mount_err(kind: &str, e: impl std::fmt::Display) -> EngineError {
    invalid(format!("invalid mount config for type \"{kind}\": {e}"))
}

/// moby's `ConvertTmpfsOptions`.
fn tmpfs_options(m: &Mount) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    if m.read_only == Some(true) {
        out.push("ro".to_owned());
    }
    let Some(t) = m.tmpfs_options.as_ref() else {
        return Ok(out);
    };
    if let Some(mode) = t.mode.filter(|m| *m != 0) {
        out.push(format!("mode={mode:o}"));
    }
    if let Some(size) = t.size_bytes.filter(|s| *s != 0) {
        let size = [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)]
            .iter()
            .find(|(_, d)| size % d == 0)
            .map(|(s, d)| format!("{}{s}", size / d))
            .unwrap_or_else(|| size.to_string());
        out.push(format!("size={size}"));
    }
    for opt in t.options.iter().flatten() {
        match opt.as_slice() {
            [k] if k == "exec" || k == "noexec" => out.push(k.clone()),
            [k, v] if k == "exec" || k == "noexec" => out.push(format!("{k}={v}")),
            [k, ..] if !k.is_empty() && opt.len() <= 2 => {
                return Err(format!("invalid option: {k}"))
            }
            _ => return Err("invalid option array length".into()),
        }
    }
    Ok(out)
}

/// One `Mounts` entry (`--mount`).
fn parse_mount(m: &Mount) -> Result<MountPoint, EngineError> {
    let typ = m.typ.unwrap_or(MountTypeEnum::EMPTY);
    let kind_name = typ.to_string();
    let kind = match typ {
        MountTypeEnum::BIND => MountKind::Bind,
        MountTypeEnum::VOLUME => MountKind::Volume,
        MountTypeEnum::TMPFS => MountKind::Tmpfs,
        MountTypeEnum::IMAGE => {
            return Err(mount_err(&kind_name, "image mounts are not supported"))
        }
        _ => return Err(mount_err(&kind_name, "mount type unknown")),
    };
    let extra = |name: &str| mount_err(&kind_name, format!("field {name} must not be specified"));
    if kind != MountKind::Bind && m.bind_options.is_some() {
        return Err(extra("BindOptions"));
    }
    if kind != MountKind::Volume && m.volume_options.is_some() {
        return Err(extra("VolumeOptions"));
    }
    if kind != MountKind::Tmpfs && m.tmpfs_options.is_some() {
        return Err(extra("TmpfsOptions"));
    }
    let target = m.target.clone().unwrap_or_default();
    if target.is_empty() {
        return Err(mount_err(&kind_name, "field Target must not be empty"));
    }
    let destination = check_target(&target).map_err(|e| mount_err(&kind_name, e))?;
    let source = m.source.clone().unwrap_or_default();
    let mut mp = MountPoint {
        kind,
        destination,
        rw: m.read_only != Some(true),
        ..Default::default()
    };
    match kind {
        MountKind::Bind => {
            if source.is_empty() {
                return Err(mount_err(&kind_name, "field Source must not be empty"));
            }
            if !source.starts_with('/') {
                return Err(mount_err(
                    &kind_name,
                    format!("invalid mount path: '{source}' mount path must be absolute"),
                ));
            }
            let opts = m.bind_options.as_ref();
            let create = opts.and_then(|o| o.create_mountpoint).unwrap_or(false);
            if !create && std::fs::symlink_metadata(&source).is_err() {
                return Err(mount_err(
                    &kind_name,
                    format!("bind source path does not exist: {source}"),
                ));
            }
            mp.source = clean(&source);
            mp.propagation = opts
                .and_then(|o| o.propagation)
                .map(|p| p.to_string())
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DEFAULT_PROPAGATION.to_owned());
            mp.non_recursive = opts.and_then(|o| o.non_recursive).unwrap_or(false);
        }
        MountKind::Volume => {
            let opts = m.volume_options.as_ref();
            let subpath = opts.and_then(|o| o.subpath.clone()).unwrap_or_default();
            if !subpath.is_empty() {
                if source.is_empty() {
                    return Err(mount_err(
                        &kind_name,
                        "must not set Subpath when using anonymous volumes",
                    ));
                }
                if subpath.starts_with('/') || subpath.split('/').any(|c| c == "..") {
                    return Err(mount_err(
                        &kind_name,
                        "subpath must be a relative path within the volume",
                    ));
                }
            }
            mp.name = source.clone();
            mp.anonymous = source.is_empty();
            mp.copy_data = !opts.and_then(|o| o.no_copy).unwrap_or(false);
            mp.subpath = subpath;
        }
        MountKind::Tmpfs => {
            if !source.is_empty() {
                return Err(mount_err(&kind_name, "field Source must not be specified"));
            }
            mp.tmpfs_options = tmpfs_options(m).map_err(|e| mount_err(&kind_name, e))?;
        }
    }
    Ok(mp)
}

fn volume_driver(m: &Mount, hc: &HostConfig) -> Option<String> {
    m.volume_options
        .as_ref()
        .and_then(|o| o.driver_config.as_ref())
        .and_then(|d| d.name.clone())
        .or_else(|| hc.volume_driver.clone())
        .filter(|d| !d.is_empty())
}

/// Creates (or finds) the volume of a volume mount point and references it for `id`.
fn attach_volume(
    engine: &Engine,
    id: &str,
    mp: &mut MountPoint,
    driver: Option<String>,
    driver_opts: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
) -> Result<(), EngineError> {
    let mut labels = labels;
    if mp.anonymous {
        labels.insert(ANONYMOUS_LABEL.to_owned(), String::new());
    }
    // Created and referenced in one step, so a concurrent prune cannot take it between.
    let v = engine.volumes.create_acquired(
        VolumeCreate {
            name: (!mp.name.is_empty()).then(|| mp.name.clone()),
            driver,
            driver_opts,
            labels,
        },
        id,
        &engine.events,
    )?;
    mp.name = v.name;
    mp.driver = v.driver;
    mp.source = v.mountpoint.display().to_string();
    Ok(())
}

/// Create: every mount the request and the image ask for, volumes made and referenced.
/// On error, references taken so far are released (and anonymous volumes made here removed).
pub(crate) fn register(
    engine: &Engine,
    id: &str,
    cfg: &ContainerConfig,
    hc: &HostConfig,
) -> Result<Vec<MountPoint>, EngineError> {
    let mut taken: Vec<MountPoint> = Vec::new();
    let result = register_into(engine, id, cfg, hc, &mut taken);
    if result.is_err() {
        release_all(engine, id, &taken, true);
    }
    result.map(|()| {
        let mut points = taken;
        // Parents before children (moby's sortMounts: by path depth).
        points.sort_by_key(|m| m.destination.matches('/').count());
        points
    })
}

fn register_into(
    engine: &Engine,
    id: &str,
    cfg: &ContainerConfig,
    hc: &HostConfig,
    points: &mut Vec<MountPoint>,
) -> Result<(), EngineError> {
    let tmpfs: HashSet<String> = hc.tmpfs.iter().flatten().map(|(k, _)| clean(k)).collect();
    let mut explicit: HashSet<String> = HashSet::new();
    let duplicate = |d: &str| invalid(format!("Duplicate mount point: {d}"));
    // --volumes-from first: binds and mounts of this container override them.
    for spec in hc.volumes_from.iter().flatten() {
        if spec.is_empty() {
            return Err(invalid(
                "volumes-from specification cannot be an empty string",
            ));
        }
        let (other, mode) = spec.split_once(':').unwrap_or((spec, "rw"));
        let mode = if mode.is_empty() { "rw" } else { mode };
        if !valid_mode(mode) || mode_propagation(mode).is_some() || mode.contains("nocopy") {
            return Err(invalid(format!("invalid mode: {mode}")));
        }
        let src = engine
            .containers
            .get(other)
            .map_err(|e| invalid(e.to_string()))?
            .snapshot();
        for m in src
            .mount_points
            .iter()
            .filter(|m| m.kind != MountKind::Tmpfs)
        {
            let mut cp = m.clone();
            cp.rw = m.rw && !mode.split(',').any(|o| o == "ro");
            cp.copy_data = false;
            // Shared, not owned: `rm -v` of this container leaves it to its maker.
            cp.anonymous = false;
            if cp.kind == MountKind::Volume {
                engine.volumes.try_acquire(&cp.name, id)?;
            }
            remove_at(engine, id, points, &cp.destination);
            points.push(cp);
        }
    }
    for raw in hc.binds.iter().flatten() {
        let mut mp = parse_bind(raw)?;
        if explicit.contains(&mp.destination) || tmpfs.contains(&mp.destination) {
            return Err(duplicate(&mp.destination));
        }
        if mp.kind == MountKind::Volume {
            if mp.mode.is_empty() {
                mp.mode = "z".into();
            }
            let driver = hc.volume_driver.clone().filter(|d| !d.is_empty());
            remove_at(engine, id, points, &mp.destination);
            attach_volume(
                engine,
                id,
                &mut mp,
                driver,
                BTreeMap::new(),
                BTreeMap::new(),
            )?;
        } else {
            remove_at(engine, id, points, &mp.destination);
        }
        explicit.insert(mp.destination.clone());
        points.push(mp);
    }
    for m in hc.mounts.iter().flatten() {
        let mut mp = parse_mount(m)?;
        if explicit.contains(&mp.destination) {
            return Err(duplicate(m.target.as_deref().unwrap_or_default()));
        }
        remove_at(engine, id, points, &mp.destination);
        if mp.kind == MountKind::Volume {
            let opts = m.volume_options.as_ref();
            let driver_opts = opts
                .and_then(|o| o.driver_config.as_ref())
                .and_then(|d| d.options.clone())
                .unwrap_or_default()
                .into_iter()
                .collect();
            let labels = opts
                .and_then(|o| o.labels.clone())
                .unwrap_or_default()
                .into_iter()
                .collect();
            mp.mode = "z".into();
            attach_volume(
                engine,
                id,
                &mut mp,
                volume_driver(m, hc),
                driver_opts,
                labels,
            )?;
        }
        explicit.insert(mp.destination.clone());
        points.push(mp);
    }
    // The config's (and image's) VOLUMEs: an anonymous volume where nothing is mounted yet.
    for v in cfg.volumes.iter().flatten() {
        let destination = check_target(v).map_err(|e| {
            invalid(format!(
                "invalid volume specification: '{v}': invalid mount config for type \"volume\": {e}"
            ))
        })?;
        if points.iter().any(|p| p.destination == destination) || tmpfs.contains(&destination) {
            continue;
        }
        let mut mp = MountPoint {
            kind: MountKind::Volume,
            destination,
            rw: true,
            copy_data: true,
            anonymous: true,
            ..Default::default()
        };
        let driver = hc.volume_driver.clone().filter(|d| !d.is_empty());
        attach_volume(
            engine,
            id,
            &mut mp,
            driver,
            BTreeMap::new(),
            BTreeMap::new(),
        )?;
        points.push(mp);
    }
    Ok(())
}

/// Drops an earlier mount point at `destination` (a later source overrides it).
fn remove_at(engine: &Engine, id: &str, points: &mut Vec<MountPoint>, destination: &str) {
    if let Some(i) = points.iter().position(|p| p.destination == destination) {
        let old = points.remove(i);
        release_all(engine, id, std::slice::from_ref(&old), true);
    }
}

pub(crate) fn release_all(
    engine: &Engine,
    id: &str,
    points: &[MountPoint],
    remove_anonymous: bool,
) {
    for mp in points.iter().filter(|m| m.kind == MountKind::Volume) {
        engine.volumes.release(&mp.name, id);
        if remove_anonymous && mp.anonymous && engine.volumes.references(&mp.name).is_empty() {
            if let Err(e) = engine.volumes.remove(&mp.name, false, &engine.events) {
                tracing::warn!(volume = %mp.name, error = %e, "removing an anonymous volume");
            }
        }
    }
}

/// rm: the container lets go of its volumes; with `-v`, its anonymous ones go too.
pub(crate) fn unregister(engine: &Engine, rec: &ContainerRecord, remove_anonymous: bool) {
    release_all(engine, &rec.id, &rec.mount_points, remove_anonymous);
}

/// Daemon start: the references of every container that still exists.
pub(crate) fn reacquire(engine: &Engine, rec: &ContainerRecord) {
    for mp in rec
        .mount_points
        .iter()
        .filter(|m| m.kind == MountKind::Volume)
    {
        engine.volumes.acquire(&mp.name, &rec.id);
    }
}

/// Live restore: a running container's volumes are in use again (a device-backed volume
/// is still mounted; its user count is rebuilt).
pub(crate) fn remount(engine: &Engine, rec: &ContainerRecord) {
    for mp in rec
        .mount_points
        .iter()
        .filter(|m| m.kind == MountKind::Volume)
    {
        if let Err(e) = engine.volumes.mount(&mp.name, &rec.id) {
            tracing::warn!(volume = %mp.name, container = %rec.id, error = %e, "volume of a live container");
        }
    }
}

/// What `setup` made: the OCI mounts and the rootfs propagation they need.
pub(crate) struct PreparedMounts {
    pub oci: Vec<Value>,
    pub rootfs_propagation: Option<String>,
    /// Volumes filled from the image (their `copy_data` is cleared in the record).
    pub filled: Vec<String>,
}

/// Start: volumes mounted, new ones filled from the image, destinations made inside the
/// root, `volume mount` published. On error every volume mounted here is unmounted.
pub(crate) fn setup(
    engine: &Engine,
    rec: &ContainerRecord,
    rootfs: &Path,
) -> Result<PreparedMounts, EngineError> {
    let mut mounted: Vec<&MountPoint> = Vec::new();
    let result = setup_inner(engine, rec, rootfs, &mut mounted);
    if result.is_err() {
        for mp in mounted {
            engine.volumes.unmount(&mp.name, &rec.id);
        }
    }
    result
}

fn setup_inner<'a>(
    engine: &Engine,
    rec: &'a ContainerRecord,
    rootfs: &Path,
    mounted: &mut Vec<&'a MountPoint>,
) -> Result<PreparedMounts, EngineError> {
    let start_err = |msg: String| {
        EngineError::Other(
            berth_core::ErrorKind::Internal,
            format!("error while mounting volumes: {msg}"),
        )
    };
    let mut out = PreparedMounts {
        oci: Vec::new(),
        rootfs_propagation: None,
        filled: Vec::new(),
    };
    for mp in &rec.mount_points {
        let source = match mp.kind {
            MountKind::Tmpfs => None,
            MountKind::Volume => {
                let path = engine.volumes.mount(&mp.name, &rec.id)?;
                mounted.push(mp);
                if mp.copy_data {
                    let filled = fill_volume(rootfs, &mp.destination, &path).map_err(|e| {
                        start_err(format!("copying image data into volume {}: {e}", mp.name))
                    })?;
                    if filled {
                        out.filled.push(mp.name.clone());
                    }
                }
                let path = if mp.subpath.is_empty() {
                    path
                } else {
                    rootfs::resolve(&path, &mp.subpath)
                        .map_err(|e| start_err(format!("cannot access path {}: {e}", mp.subpath)))?
                };
                Some(path)
            }
            MountKind::Bind => {
                let src = Path::new(&mp.source);
                if std::fs::symlink_metadata(src).is_err() {
                    std::fs::create_dir_all(src).map_err(|e| {
                        start_err(format!(
                            "error while creating mount source path '{}': {e}",
                            mp.source
                        ))
                    })?;
                }
                Some(src.to_path_buf())
            }
        };
        let is_file = source
            .as_deref()
            .and_then(|s| std::fs::metadata(s).ok())
            .is_some_and(|m| !m.is_dir());
        // Under --userns-remap, made as the runtime inside the namespace would: the
        // remapped root's.
        let ids = &engine.containers.settings().id_mapping;
        let owner = (!ids.is_empty()).then(|| ids.root_pair());
        let destination = rootfs::make_mountpoint_owned(rootfs, &mp.destination, is_file, owner)
            .map_err(|e| start_err(format!("mount point {}: {e}", mp.destination)))?;
        let value = match source {
            None => {
                let mut options = vec!["nosuid".to_owned(), "nodev".to_owned(), "noexec".into()];
                for o in &mp.tmpfs_options {
                    match o.as_str() {
                        "exec" => options.retain(|x| x != "noexec"),
                        o => options.push(o.to_owned()),
                    }
                }
                json!({"destination": destination, "type": "tmpfs", "source": "tmpfs",
                       "options": options})
            }
            Some(src) => {
                let propagation = if mp.propagation.is_empty() {
                    DEFAULT_PROPAGATION
                } else {
                    mp.propagation.as_str()
                };
                match propagation {
                    "shared" | "rshared" => out.rootfs_propagation = Some("rshared".into()),
                    "slave" | "rslave" if out.rootfs_propagation.is_none() => {
                        out.rootfs_propagation = Some("rslave".into())
                    }
                    _ => {}
                }
                let mut options = vec![
                    if mp.non_recursive { "bind" } else { "rbind" }.to_owned(),
                    propagation.to_owned(),
                ];
                if !mp.rw {
                    options.push("ro".into());
                }
                json!({"destination": destination, "type": "bind", "source": src,
                       "options": options})
            }
        };
        if mp.kind == MountKind::Volume {
            let mut attrs = BTreeMap::new();
            attrs.insert("driver".to_owned(), mp.driver.clone());
            attrs.insert("container".to_owned(), rec.id.clone());
            attrs.insert("destination".to_owned(), mp.destination.clone());
            attrs.insert("read/write".to_owned(), mp.rw.to_string());
            attrs.insert("propagation".to_owned(), mp.propagation.clone());
            engine
                .events
                .publish(event_type::VOLUME, "mount", mp.name.clone(), attrs);
        }
        out.oci.push(value);
    }
    Ok(out)
}

/// Exit: volumes unmounted (a device-backed one on its last user), `volume unmount`.
pub(crate) fn teardown(engine: &Engine, rec: &ContainerRecord) {
    for mp in rec
        .mount_points
        .iter()
        .filter(|m| m.kind == MountKind::Volume)
    {
        engine.volumes.unmount(&mp.name, &rec.id);
        let mut attrs = BTreeMap::new();
        attrs.insert("driver".to_owned(), mp.driver.clone());
        attrs.insert("container".to_owned(), rec.id.clone());
        engine
            .events
            .publish(event_type::VOLUME, "unmount", mp.name.clone(), attrs);
    }
}

/// A new volume mounted over an image directory first gets that directory's content and
/// ownership (moby's `copyExistingContents`); a volume with content is left alone.
/// Returns whether anything was copied.
fn fill_volume(rootfs: &Path, destination: &str, volume: &Path) -> std::io::Result<bool> {
    if std::fs::read_dir(volume)?.next().is_some() {
        return Ok(false);
    }
    rootfs::copy_dir_into(rootfs, destination, volume)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_parse_like_moby() {
        let b = parse_bind("/host:/ctr:ro,rshared").unwrap();
        assert_eq!(b.kind, MountKind::Bind);
        assert_eq!(
            (b.source.as_str(), b.destination.as_str()),
            ("/host", "/ctr")
        );
        assert!(!b.rw);
        assert_eq!(b.propagation, "rshared");
        assert_eq!(b.mode, "ro,rshared");

        let v = parse_bind("data:/var/lib/x/").unwrap();
        assert_eq!(v.kind, MountKind::Volume);
        assert_eq!(
            (v.name.as_str(), v.destination.as_str()),
            ("data", "/var/lib/x")
        );
        assert!(v.rw && v.copy_data && !v.anonymous);
        assert!(!parse_bind("data:/x:nocopy").unwrap().copy_data);

        let a = parse_bind("/only").unwrap();
        assert!(a.anonymous && a.kind == MountKind::Volume);
    }

    #[test]
    fn bad_binds_get_mobys_messages() {
        let msg = |raw: &str| parse_bind(raw).unwrap_err().to_string();
        assert_eq!(msg("/x:ro"), "invalid volume specification: '/x:ro'");
        assert_eq!(msg("a:b:c:d"), "invalid volume specification: 'a:b:c:d'");
        assert_eq!(msg(":/x"), "invalid volume specification: ':/x'");
        assert_eq!(msg("/a:/b:rw,ro"), "invalid mode: rw,ro");
        assert_eq!(msg("/a:/b:bogus"), "invalid mode: bogus");
        assert!(msg("/a:/").contains("destination can't be '/'"));
        assert!(msg("/a:rel").contains("mount path must be absolute"));
    }

    #[test]
    fn mount_specs_are_validated() {
        let m: Mount = serde_json::from_value(json!({
            "Type": "tmpfs", "Target": "/t",
            "TmpfsOptions": {"SizeBytes": 1048576, "Mode": 0o1777}
        }))
        .unwrap();
        let mp = parse_mount(&m).unwrap();
        assert_eq!(mp.tmpfs_options, vec!["mode=1777", "size=1m"]);

        let m: Mount = serde_json::from_value(json!({
            "Type": "bind", "Source": "/definitely/not/here", "Target": "/t"
        }))
        .unwrap();
        assert_eq!(
            parse_mount(&m).unwrap_err().to_string(),
            "invalid mount config for type \"bind\": bind source path does not exist: /definitely/not/here"
        );

        let m: Mount = serde_json::from_value(json!({
            "Type": "tmpfs", "Source": "x", "Target": "/t"
        }))
        .unwrap();
        assert!(parse_mount(&m)
            .unwrap_err()
            .to_string()
            .contains("field Source must not be specified"));

        let m: Mount = serde_json::from_value(json!({
            "Type": "volume", "Target": "/t", "VolumeOptions": {"Subpath": "../x"}, "Source": "v"
        }))
        .unwrap();
        assert!(parse_mount(&m)
            .unwrap_err()
            .to_string()
            .contains("subpath must be a relative path"));
    }

    #[test]
    fn modes_allow_one_of_each_kind() {
        assert!(valid_mode("ro,z,rslave,nocopy"));
        assert!(!valid_mode("ro,rw"));
        assert!(!valid_mode("z,Z"));
        assert!(!valid_mode("shared,slave"));
    }
}
