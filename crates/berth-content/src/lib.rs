//! The verified, content-addressed blob store: layers, manifests, configs and indexes,
//! each stored under its sha256 digest and visible only once that digest was checked.
//!
//! The capability traits ([`Provider`], [`Ingester`], [`Manager`]) follow containerd's
//! split so callers ask only for what they use; [`LocalStore`] implements them on a
//! directory, and [`testsuite`] holds the conformance checks any implementation must pass.
//!
//! This crate knows nothing of images, references, layers' contents or HTTP.

mod error;
mod local;
pub mod testsuite;
mod traits;

pub use error::ContentError;
pub use local::{LocalStore, LocalWriter};
pub use traits::{BlobWriter, Info, Ingester, Manager, Provider, Store, MAX_DOCUMENT_SIZE};
