//! HTTP plumbing shared by every route: errors, API-version prefixes, common headers,
//! query parameters.

pub mod error;
pub mod headers;
pub mod params;
pub mod stream;
pub mod version;

pub use error::ApiError;
pub use params::Params;
