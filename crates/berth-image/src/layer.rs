//! What the image store needs from the layer store (implemented by `berth-snapshot`).

use std::io::Read;

use berth_core::{ChainId, Digest};

/// Errors of the layer store are opaque to images.
pub type LayerError = Box<dyn std::error::Error + Send + Sync>;

/// Unpacked layers keyed by chain ID.
pub trait LayerStore: Send + Sync {
    /// Unpacks `uncompressed_tar` (whose sha256 is `diff_id`, already verified by the
    /// caller) on top of `parent`, and returns the new layer's chain ID. Applying a chain
    /// that already exists must succeed without changing it.
    fn apply(
        &self,
        parent: Option<&ChainId>,
        diff_id: &Digest,
        uncompressed_tar: &mut dyn Read,
    ) -> Result<ChainId, LayerError>;

    fn exists(&self, chain: &ChainId) -> bool;

    /// The layer's size as dockerd reports it (the apparent size of the files it brings);
    /// None when the store cannot tell, and the image store falls back to the tar's size.
    fn size(&self, _chain: &ChainId) -> Option<u64> {
        None
    }

    /// Removes one layer; the image store calls it top-down and only for chains no
    /// remaining image uses.
    fn remove(&self, chain: &ChainId) -> Result<(), LayerError>;
}
