//! The crate's error type and its mapping onto [`berth_core::ErrorKind`].

use std::io;
use std::path::PathBuf;

use berth_core::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A layer archive holds an entry that is unsafe or malformed; the whole layer is refused.
    #[error("invalid layer entry {entry:?}: {reason}")]
    UnsafeEntry { entry: String, reason: &'static str },
    #[error("layer {0} not found")]
    LayerNotFound(String),
    #[error("snapshot {0:?} not found")]
    SnapshotNotFound(String),
    #[error("snapshot {0:?} already exists")]
    SnapshotExists(String),
    #[error("layer {0} is in use by {1}")]
    LayerInUse(String, String),
    #[error("{op} {path:?}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("reading layer archive: {0}")]
    Archive(#[source] io::Error),
    /// An owner with no counterpart under `--userns-remap` (moby's message).
    #[error(transparent)]
    IdMap(#[from] berth_core::IdMapError),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnsafeEntry { .. } => ErrorKind::InvalidParameter,
            Error::Archive(_) => ErrorKind::InvalidParameter,
            Error::LayerNotFound(_) | Error::SnapshotNotFound(_) => ErrorKind::NotFound,
            Error::SnapshotExists(_) | Error::LayerInUse(..) => ErrorKind::Conflict,
            Error::Io { .. } | Error::IdMap(_) => ErrorKind::Internal,
        }
    }

    pub(crate) fn unsafe_entry(entry: &[u8], reason: &'static str) -> Self {
        Error::UnsafeEntry {
            entry: String::from_utf8_lossy(entry).into_owned(),
            reason,
        }
    }
}

/// Attaches the operation and path to an `io::Error`.
pub(crate) trait IoContext<T> {
    fn ctx(self, op: &'static str, path: &std::path::Path) -> Result<T, Error>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, op: &'static str, path: &std::path::Path) -> Result<T, Error> {
        self.map_err(|source| Error::Io {
            op,
            path: path.to_owned(),
            source,
        })
    }
}

impl<T> IoContext<T> for nix::Result<T> {
    fn ctx(self, op: &'static str, path: &std::path::Path) -> Result<T, Error> {
        self.map_err(|e| Error::Io {
            op,
            path: path.to_owned(),
            source: io::Error::from(e),
        })
    }
}
