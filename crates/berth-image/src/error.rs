use berth_content::ContentError;
use berth_core::{ErrorKind, ReferenceError};

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Worded as Docker's `ErrImageDoesNotExist`; clients match on "No such image".
    #[error("No such image: {0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    InvalidParameter(String),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error("invalid archive: {0}")]
    InvalidArchive(String),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error("layer store: {0}")]
    Layer(#[source] crate::LayerError),
    #[error("image store I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("corrupt image metadata: {0}")]
    Corrupt(String),
}

impl ImageError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::InvalidParameter(_) | Self::Reference(_) | Self::InvalidArchive(_) => {
                ErrorKind::InvalidParameter
            }
            Self::Content(e) => e.kind(),
            Self::Layer(_) | Self::Io(_) | Self::Corrupt(_) => ErrorKind::Internal,
        }
    }
}

pub type Result<T, E = ImageError> = std::result::Result<T, E>;
