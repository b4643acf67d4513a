//! The per-container monitor, `berth shim <state_dir>` (conmon-rs's shape), and the
//! daemon's client for it.
//!
//! A shim owns one process, a container's init or an exec, from creation to exit: it
//! creates it with youki's libcontainer (so it is the process's parent), holds its stdio
//! pipes or PTY master, writes every output chunk to the container's log, serves
//! start/state/signal/resize/wait/attach on `<state_dir>/shim.sock`, and records the exit
//! status in `<state_dir>/exit.json` before it deletes the container and exits. It is a
//! single thread around poll(2), in its own session, and outlives the daemon.
//!
//! It must not know about images, networks, the HTTP API or the engine's records: its
//! input is `shim.json` ([`ShimConfig`]) and an OCI bundle (or process) the daemon made.

pub mod client;
pub mod config;
mod executor;
mod exit;
pub mod frame;
mod launch;
mod logsink;
mod lookup;
mod monitor;
mod oom;
pub mod protocol;
mod runtime;
mod stdio;
mod sys;
pub mod userns;

pub use client::{ShimClient, ShimError};
pub use config::{ExitStatus, LogTarget, ShimConfig, ShimKind};
pub use launch::main;
pub use protocol::{ProcessStatus, ShimState};
