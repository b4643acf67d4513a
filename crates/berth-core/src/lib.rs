//! Value types every other Berth crate speaks: content digests, error kinds, and (as the
//! image store lands) references, platforms and mounts.
//!
//! This crate does no I/O and knows nothing of HTTP, storage layout or the engine.

mod digest;
mod error_kind;

pub use digest::{Digest, DigestError, Sha256Writer};
pub use error_kind::ErrorKind;
