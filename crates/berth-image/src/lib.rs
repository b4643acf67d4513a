//! Images: the image model (Docker schema2 / OCI manifests, indexes and configs through
//! `oci-spec`), the image metadata store (records, tags, digests, `LastTagTime`),
//! `docker import`, `docker save` and `docker load`.
//!
//! It stores blobs through `berth-content` and unpacks layers through the [`LayerStore`]
//! trait (implemented by `berth-snapshot`); it knows nothing of containers, HTTP or the
//! engine, which vetoes deletes through a callback.
//!
//! Invariant: for every layer of every image, the content store holds the *uncompressed*
//! layer tar under its diff ID, so `save` copies blobs as they are and layer application
//! always reads verified bytes.

mod archive;
mod changes;
mod commit;
mod compression;
mod config;
mod error;
mod filters;
mod fsutil;
mod glob;
mod import;
mod layer;
mod store;

pub use archive::load::LoadedImage;
pub use archive::save::ANNOTATION_CONTAINERD_NAME;
pub use changes::apply_changes;
pub use commit::{CommitOptions, EMPTY_LAYER_DIFF_ID};
pub use compression::decompress;
pub use config::{HistoryEntry, ImageConfig};
pub use error::{ImageError, Result};
pub use filters::{ImageSummary, ListFilters};
pub use import::{ImportOptions, Platform};
pub use layer::{LayerError, LayerStore};
pub use store::{short_id, ContainerUse, DeleteItem, DeleteOptions, Image, ImageStore};

#[cfg(test)]
mod tests;
