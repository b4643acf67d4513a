//! `GET /containers/{id}/changes` (`docker diff`): the container's filesystem against its
//! image, by the layer store's moby-compatible rules; running or stopped alike.

use berth_snapshot::{Change, InitPaths};

use crate::error::EngineError;
use crate::Engine;

use super::internal;

/// The mount targets dockerd's init layer holds (moby `daemon/initlayer`): made in every
/// container, they are not the container's changes and do not go into a commit.
pub(crate) fn init_paths() -> InitPaths {
    InitPaths::new([
        "/dev/pts",
        "/dev/shm",
        "/proc",
        "/sys",
        "/.dockerenv",
        "/etc/resolv.conf",
        "/etc/hosts",
        "/etc/hostname",
        "/dev/console",
        "/etc/mtab",
    ])
}

/// The changes of container `name`, sorted by path (parents before their children).
pub fn changes(engine: &Engine, name: &str) -> Result<Vec<Change>, EngineError> {
    let c = engine.containers.get(name)?;
    engine
        .images
        .layers()
        .changes(&c.id, &init_paths())
        .map_err(|e| internal(e.to_string()))
}
