use berth_core::{Digest, ErrorKind};

#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("content {0} not found")]
    NotFound(Digest),
    #[error("unexpected commit digest {actual}, expected {expected}: failed precondition")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error("unexpected commit size {actual}, expected {expected}: failed precondition")]
    SizeMismatch { expected: u64, actual: u64 },
    #[error("content {what} is too large: more than {limit} bytes")]
    TooLarge { what: String, limit: u64 },
    #[error("content store I/O: {0}")]
    Io(#[from] std::io::Error),
}

impl ContentError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::DigestMismatch { .. } | Self::SizeMismatch { .. } | Self::TooLarge { .. } => {
                ErrorKind::InvalidParameter
            }
            Self::Io(_) => ErrorKind::Internal,
        }
    }
}
