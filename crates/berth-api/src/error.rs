use serde::{Deserialize, Serialize};

/// Every error response of the Engine API: `{"message": "..."}`, sent with
/// `Content-Type: application/json` exactly (the Go client compares it literally).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
}

impl ErrorBody {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}
