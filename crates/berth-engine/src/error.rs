use std::path::PathBuf;

use berth_core::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    InvalidParameter(String),
    #[error(transparent)]
    Image(#[from] berth_image::ImageError),
    #[error("{1}")]
    Other(ErrorKind, String),
}

impl EngineError {
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Io { .. } => ErrorKind::Internal,
            Self::InvalidParameter(_) => ErrorKind::InvalidParameter,
            Self::Image(e) => e.kind(),
            Self::Other(kind, _) => *kind,
        }
    }
}
