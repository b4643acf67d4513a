//! The container runtime boundary: turns a container's resolved configuration into an OCI
//! runtime spec with Docker's defaults (capabilities, masked and read-only paths, default
//! mounts, rlimits, seccomp), ready for youki's libcontainer.
//!
//! This crate knows nothing of images, HTTP or the engine's records: its input is the
//! already-resolved [`ContainerSpec`].

mod abi;
pub mod defaults;
mod devices;
pub mod rlimit;
pub mod seccomp;
pub mod seccomp_bpf;
mod spec;
pub mod stats;
pub mod top;

pub use spec::{
    all_grantable_capabilities, build_spec, ContainerSpec, DevShm, Device, NamespaceMode,
    Resources, SeccompMode, SpecError, Ulimit, UserNamespace,
};
