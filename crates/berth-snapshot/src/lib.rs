//! Berth's layer store: unpacking image layers safely, keeping them as overlay2 (or copied,
//! "vfs") snapshots keyed by chain ID, preparing container snapshots, and diffing them back
//! into OCI layer tars.
//!
//! It owns everything below `<data-root>/overlay` (or `/vfs`) and the rules for turning a tar
//! into files. It must not know about images, manifests, registries or containers: callers
//! hand it a layer stream and a parent chain ID, and get back mounts.

mod apply;
mod changes;
mod decompress;
mod diff;
mod error;
mod mounter;
mod probe;
mod safe_path;
mod store;
mod whiteout;

pub use apply::{apply_layer, apply_layer_mapped, Applied, WhiteoutMode};
pub use changes::{Change, ChangeKind, InitPaths};
pub use decompress::{decompressed, Compression};
pub use error::Error;
pub use mounter::{mount_all, unmount};
pub use store::{Driver, LayerInfo, LayerStore};
