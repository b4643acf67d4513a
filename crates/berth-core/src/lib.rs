//! Value types every other Berth crate speaks: content digests, layer chain IDs, image
//! references (with Docker's normalisation), error kinds, the `Mount` value storage hands
//! to the runtime, and user namespace ID mappings.
//!
//! This crate does no I/O and knows nothing of HTTP, storage layout or the engine.

mod chain_id;
mod digest;
mod error_kind;
mod idmap;
mod mount;
pub mod reference;

pub use chain_id::ChainId;
pub use digest::{Digest, DigestError, Sha256Writer};
pub use error_kind::ErrorKind;
pub use idmap::{IdMap, IdMapError, IdMapping, OVERFLOW_ID};
pub use mount::Mount;
pub use reference::{Reference, ReferenceError};
