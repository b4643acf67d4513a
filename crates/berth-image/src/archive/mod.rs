//! Image archives: `docker save` output and `docker load` input.

pub mod load;
pub mod save;
