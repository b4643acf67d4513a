/// The small set of error kinds that cross crate boundaries. Each library error enum maps
/// itself onto one of these, and the daemon turns a kind into an HTTP status in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller sent something malformed (HTTP 400).
    InvalidParameter,
    /// Authentication is needed (HTTP 401).
    Unauthorized,
    /// The caller may not do this (HTTP 403).
    Forbidden,
    /// The named object does not exist (HTTP 404).
    NotFound,
    /// The object is in a state that forbids the request (HTTP 409).
    Conflict,
    /// The request asked for something already true, e.g. starting a running container (HTTP 304).
    NotModified,
    /// The feature is not available in this daemon (HTTP 501).
    NotImplemented,
    /// The daemon cannot serve this right now (HTTP 503).
    Unavailable,
    /// Anything else (HTTP 500).
    Internal,
}
