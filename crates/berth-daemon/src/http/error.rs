//! The one place where error kinds become HTTP statuses, and the `{"message": ...}` body.

use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_api::{ErrorBody, FilterError};
use berth_core::ErrorKind;
use http::StatusCode;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

/// moby's `httpstatus.FromError`, for our kinds.
pub fn status_for(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::InvalidParameter => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::NotModified => StatusCode::NOT_MODIFIED,
        ErrorKind::NotImplemented => StatusCode::NOT_IMPLEMENTED,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            status: status_for(kind),
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidParameter, message)
    }

    pub fn page_not_found() -> Self {
        Self::new(ErrorKind::NotFound, "page not found")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status == StatusCode::NOT_MODIFIED {
            return self.status.into_response();
        }
        // Json sets `Content-Type: application/json` exactly, as the Go client requires.
        (self.status, Json(ErrorBody::new(self.message))).into_response()
    }
}

impl From<FilterError> for ApiError {
    fn from(e: FilterError) -> Self {
        Self::bad_request(e.to_string())
    }
}

impl From<berth_engine::EngineError> for ApiError {
    fn from(e: berth_engine::EngineError) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}
