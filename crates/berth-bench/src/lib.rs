//! Timing loops for the side-by-side benchmark harness (`bench/run`): a raw HTTP/1.1 client
//! over a unix socket that times each request on one keep-alive connection, a loop that times
//! whole command runs, and the summary statistics both report.
//!
//! It owns measuring only: it must not know about Berth's or Docker's internals, which daemon
//! it talks to, or how the harness starts daemons and prints its table.

pub mod command;
pub mod http;
pub mod stats;
