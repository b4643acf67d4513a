//! The archive API behind `docker cp`: stat a path, archive it, extract a tar into a
//! directory, on running and stopped containers alike, through the container's complete
//! view ([`super::rootview`]) and root-anchored file operations only (`berth-rootfs`).
//! Decompression is in-process (`berth-snapshot`'s detector); nothing from the container
//! is run or loaded.

use std::io::{self, Read, Write};

use berth_api::events::event_type;
use berth_core::ErrorKind;
use berth_rootfs::{path, PathStat, UnpackError, UnpackOptions};

use super::create::event_attributes;
use super::rootview::{with_root_view, RootView, ViewOptions};
use super::{Container, ContainerRecord};
use crate::error::EngineError;
use crate::Engine;

/// What moby answers for a path that is not there (`containerFileNotFound`).
fn file_not_found(path: &str, name: &str) -> EngineError {
    EngineError::Other(
        ErrorKind::NotFound,
        format!("Could not find the file {path} in container {name}"),
    )
}

/// An I/O error as Go prints it (`lstat /x: not a directory`), without Rust's
/// `(os error N)` suffix.
fn go_error(op: &str, path: &[u8], e: &io::Error) -> String {
    let text = e.to_string();
    let text = match text.find(" (os error") {
        Some(i) => &text[..i],
        None => &text,
    };
    let mut chars = text.chars();
    let text = match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    };
    format!("{op} {}: {text}", String::from_utf8_lossy(path))
}

fn stat_error(e: &io::Error, abs: &[u8], path: &str, name: &str) -> EngineError {
    if e.kind() == io::ErrorKind::NotFound {
        file_not_found(path, name)
    } else {
        EngineError::Other(ErrorKind::Internal, go_error("lstat", abs, e))
    }
}

fn publish(engine: &Engine, rec: &ContainerRecord, action: &str) {
    let image = rec.config.image.clone().unwrap_or_default();
    engine.events.publish(
        event_type::CONTAINER,
        action,
        rec.id.clone(),
        event_attributes(rec, &image),
    );
}

fn view_of<T: Send>(
    engine: &Engine,
    c: &Container,
    writable: bool,
    f: impl FnOnce(&RootView) -> T + Send,
) -> Result<T, EngineError> {
    let opts = ViewOptions {
        include_mounts: true,
        writable,
    };
    with_root_view(engine, c, opts, f)
}

/// `HEAD /containers/{id}/archive?path=`: the path's stat, the final symlink followed only
/// when the path ends in `/` or `/.`.
pub fn stat_path(engine: &Engine, name: &str, path: &str) -> Result<PathStat, EngineError> {
    let c = engine.containers.get(name)?;
    let abs = path::container_path(path);
    view_of(engine, &c, false, |v| {
        berth_rootfs::stat_path(v.root(), &abs)
    })?
    .map_err(|e| stat_error(&e, &abs, path, name))
}

/// `GET /containers/{id}/archive?path=`: stats the path, hands the stat to `start` (which
/// sends the response head and returns where the tar goes), then writes the tar there.
/// An error before `start` is the request's; one after it can only cut the stream short.
pub fn archive_path<W, S>(
    engine: &Engine,
    name: &str,
    path: &str,
    start: S,
) -> Result<(), EngineError>
where
    W: Write,
    S: FnOnce(&PathStat) -> io::Result<W> + Send,
{
    let c = engine.containers.get(name)?;
    let abs = path::container_path(path);
    let rec = view_of(
        engine,
        &c,
        false,
        |v| -> Result<ContainerRecord, EngineError> {
            let stat = berth_rootfs::stat_path(v.root(), &abs)
                .map_err(|e| stat_error(&e, &abs, path, name))?;
            let out = start(&stat).map_err(|e| EngineError::io("send", "archive", e))?;
            // Owners as the container sees them (`--userns-remap` shifted them on disk).
            let ids = &engine.containers.settings().id_mapping;
            berth_rootfs::archive_path_mapped(v.root(), &abs, ids, out).map_err(|e| {
                EngineError::io("archive", String::from_utf8_lossy(&abs).into_owned(), e)
            })?;
            Ok(v.record().clone())
        },
    )??;
    publish(engine, &rec, "archive-path");
    Ok(())
}

/// `PUT /containers/{id}/archive` options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExtractOptions {
    /// Refuse to replace a directory with a non-directory or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// `copyUIDGID`: own everything by the container's user (when it has one).
    pub copy_uid_gid: bool,
}

/// `PUT /containers/{id}/archive?path=`: extracts the tar `body` (plain, gzip or zstd)
/// into the directory `path` (a final symlink followed), as moby's
/// `containerExtractToDir`.
pub fn extract_to_dir(
    engine: &Engine,
    name: &str,
    path: &str,
    opts: ExtractOptions,
    body: impl Read + Send,
) -> Result<(), EngineError> {
    let c = engine.containers.get(name)?;
    let abs = path::container_path(path);
    let result = view_of(
        engine,
        &c,
        true,
        |v| -> Result<ContainerRecord, EngineError> {
            let dest = match v.root().sub_root(&abs) {
                Ok(dest) => dest,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(file_not_found(path, name))
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => {
                    return Err(EngineError::InvalidParameter(
                        "extraction point is not a directory".into(),
                    ))
                }
                Err(e) => {
                    return Err(EngineError::Other(
                        ErrorKind::Internal,
                        go_error("open", &abs, &e),
                    ))
                }
            };
            check_writable(v, &dest)?;
            // The archive's owners are container IDs: shifted to host IDs on the way in.
            let ids = engine.containers.settings().id_mapping.clone();
            let owner = if opts.copy_uid_gid {
                container_owner(v)?
                    .map(|(uid, gid)| ids.to_host(uid, gid))
                    .transpose()
                    .map_err(|e| EngineError::InvalidParameter(e.to_string()))?
            } else {
                None
            };
            let (_, reader) = berth_snapshot::decompressed(body)
                .map_err(|e| EngineError::Other(ErrorKind::Internal, e.to_string()))?;
            let unpack = UnpackOptions {
                no_overwrite_dir_non_dir: opts.no_overwrite_dir_non_dir,
                owner,
                dest_display: String::from_utf8_lossy(&abs).into_owned(),
                ids,
                ..Default::default()
            };
            berth_rootfs::unpack(&dest, reader, &unpack)
                .map_err(|e| unpack_error(&e, path, name))?;
            Ok(v.record().clone())
        },
    );
    // Even a failed extract may have written part of the tar: the cached size is stale.
    engine.containers.invalidate_size(&c.id);
    let rec = result??;
    publish(engine, &rec, "extract-to-dir");
    Ok(())
}

/// moby's checks: a path in a mount must be in a writable one; a path in the container's
/// own filesystem may not be written when the rootfs is read-only.
fn check_writable(v: &RootView, dest: &berth_rootfs::Root) -> Result<(), EngineError> {
    let io_fail = |e: io::Error| EngineError::Other(ErrorKind::Internal, e.to_string());
    if v.on_rootfs(dest).map_err(io_fail)? {
        if v.record().host_config.readonly_rootfs == Some(true) {
            return Err(EngineError::InvalidParameter(
                "container rootfs is marked read-only".into(),
            ));
        }
    } else if berth_rootfs::on_read_only_mount(dest).map_err(io_fail)? {
        return Err(EngineError::InvalidParameter(
            "mounted volume is marked read-only".into(),
        ));
    }
    Ok(())
}

/// The container's `Config.User` as uid:gid, resolved in its own /etc/passwd and
/// /etc/group; `None` when it has none (the archive's owners are kept, as moby does).
fn container_owner(v: &RootView) -> Result<Option<(u32, u32)>, EngineError> {
    let user = v.record().config.user.clone().unwrap_or_default();
    if user.is_empty() {
        return Ok(None);
    }
    let u = super::user::resolve(&v.root_path(), &user, &[])
        .map_err(|e| EngineError::Other(ErrorKind::Internal, e))?;
    Ok(Some((u.uid, u.gid)))
}

fn unpack_error(e: &UnpackError, path: &str, name: &str) -> EngineError {
    match e {
        UnpackError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => {
            file_not_found(path, name)
        }
        UnpackError::Io {
            op,
            name: entry,
            source,
        } => EngineError::Other(ErrorKind::Internal, go_error(op, entry.as_bytes(), source)),
        other => EngineError::Other(ErrorKind::Internal, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_go_prints_them() {
        let e = io::Error::from_raw_os_error(libc::ENOTDIR);
        assert_eq!(
            go_error("lstat", b"/a/b", &e),
            "lstat /a/b: not a directory"
        );
        let missing = stat_error(
            &io::Error::from_raw_os_error(libc::ENOENT),
            b"/x",
            "x",
            "c1",
        );
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert_eq!(
            missing.to_string(),
            "Could not find the file x in container c1"
        );
    }
}
