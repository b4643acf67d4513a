use http::StatusCode;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The daemon could not be reached at all.
    #[error("Cannot connect to the Berth daemon at {host}. Is the berth daemon running?")]
    Connect {
        host: String,
        source: std::io::Error,
    },
    /// The daemon answered with an error status; `message` is its `{"message": ...}`.
    #[error("Error response from daemon: {message}")]
    Daemon { status: StatusCode, message: String },
    #[error("error during connect: {0}")]
    Transport(String),
    #[error("{0}")]
    Tls(String),
    #[error("{0}")]
    Config(String),
    #[error("error decoding the daemon's response: {0}")]
    Decode(String),
}
