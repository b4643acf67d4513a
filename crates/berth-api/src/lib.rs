//! The Docker Engine API as it goes over the wire: version constants and negotiation,
//! the `{"message": ...}` error body, the two JSON shapes of `filters`, event messages
//! (with the legacy fields clients still read), and the response models.
//!
//! Response models come from `bollard-stubs` (generated from moby's swagger, pinned to the
//! API 1.49 build, the closest to the 1.50 we advertise) and are re-exported as [`models`];
//! what the swagger lacks is defined here. This crate depends on no other Berth crate and
//! knows nothing of how the daemon computes the values.

pub mod error;
pub mod events;
pub mod filters;
pub mod units;
pub mod version;

/// Generated Engine API models (moby's swagger), re-exported so other crates name one source.
pub use bollard_stubs::models;

pub use error::ErrorBody;
pub use filters::{FilterError, Filters};
pub use version::{ApiVersion, API_VERSION, MIN_API_VERSION};
