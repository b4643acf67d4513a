//! `GET /containers/{id}/export` (`docker export`): a tar of the container's own filesystem
//! (its root, without the volumes, binds and tmpfs mounted into it), running or stopped,
//! named as go-archive's `TarWithOptions` names them (`bin/`, `bin/sh`, ...), streamed as
//! it is read.
//!
//! The root comes from [`super::rootview`] and is walked by descriptors only
//! (`berth_rootfs::Packer`): a container that swaps a directory for a symlink while the
//! export runs can never make it read outside its root.

use std::io::Write;
use std::os::fd::AsFd;

use berth_api::events::event_type;
use berth_core::ErrorKind;

use super::create::event_attributes;
use super::record::Status;
use super::rootview::{with_root_view, ViewOptions};
use crate::error::EngineError;
use crate::Engine;

/// Refuses what moby refuses before the first byte: a dead container, or one being
/// removed. Call it before answering 200.
pub fn check(engine: &Engine, name: &str) -> Result<(), EngineError> {
    let rec = engine.containers.get(name)?.snapshot();
    let refuse = |what: &str| {
        Err(EngineError::Other(
            ErrorKind::Conflict,
            format!("You cannot export container {} which is {what}", rec.id),
        ))
    };
    match rec.state.status {
        Status::Dead => refuse("Dead"),
        Status::Removing => refuse("being removed"),
        _ => Ok(()),
    }
}

/// Writes the archive of container `name` to `out` and returns `out` once it is complete.
/// Publishes the `export` event, as dockerd does once the archive is under way.
pub fn export<W: Write + Send>(engine: &Engine, name: &str, out: W) -> Result<W, EngineError> {
    check(engine, name)?;
    let c = engine.containers.get(name)?;
    let opts = ViewOptions {
        include_mounts: false,
        writable: false,
    };
    let published = || {
        let rec = c.snapshot();
        let image = rec.config.image.clone().unwrap_or_default();
        engine.events.publish(
            event_type::CONTAINER,
            "export",
            rec.id.clone(),
            event_attributes(&rec, &image),
        );
    };
    with_root_view(engine, &c, opts, move |view| -> std::io::Result<W> {
        let mut names: Vec<Vec<u8>> = std::fs::read_dir(view.root_path())?
            .filter_map(Result::ok)
            .map(|e| std::os::unix::ffi::OsStrExt::as_bytes(e.file_name().as_os_str()).to_vec())
            .collect();
        names.sort();
        let ids = engine.containers.settings().id_mapping.clone();
        let mut packer = berth_rootfs::Packer::new(out).with_id_mapping(ids);
        published();
        for name in names {
            packer.add(&view.root().as_fd(), &name, name.clone())?;
        }
        packer.finish()
    })?
    .map_err(|e| {
        EngineError::Other(
            ErrorKind::Internal,
            format!("Error exporting container {name}: {e}"),
        )
    })
}
