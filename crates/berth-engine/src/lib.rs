//! The daemon's state and orchestration. Every object the daemon manages lives here, and
//! every change publishes an event on the [`events::EventsBus`].
//!
//! This crate knows nothing of HTTP: `berth-daemon` turns requests into calls on
//! [`Engine`] and engine values into wire models. It reads the parsed `filters` value from
//! `berth-api` (pure data), nothing else from the wire.

pub mod containers;
pub mod engine;
pub mod error;
pub mod events;
pub mod fsutil;
pub mod host;
pub mod images;
pub mod networks;
pub mod storage;
mod timefilter;
pub mod userns;
pub mod volumes;

pub use engine::{Engine, EngineConfig};
pub use error::EngineError;
