//! Berth's embedded DNS server: the resolver Docker runs at 127.0.0.11 inside every container
//! attached to a user-defined network.
//!
//! It owns the DNS wire protocol side: serving UDP and TCP on sockets it is handed, answering
//! names local to the asking container (A, PTR, and empty NOERROR for other types so clients
//! fall back to A), forwarding everything else to the host's upstream resolvers, and reading the
//! host's resolv.conf (through to systemd-resolved's real upstreams).
//!
//! It must not know about containers, networks or namespaces: which names exist, and whether a
//! container may reach the outside world, is asked of a [`Resolver`] the engine implements; the
//! engine binds the sockets inside the container's network namespace and hands them over.
//! Upstream sockets are opened by the runtime's threads, i.e. in the daemon's namespace, so a
//! host-loopback upstream such as systemd-resolved's 127.0.0.53 stays reachable.

mod answer;
mod forward;
mod names;
mod server;
mod tcp;
mod udp;
mod upstreams;

use std::net::Ipv4Addr;

pub use server::{DnsServer, Limits};
pub use upstreams::{Upstreams, DEFAULT_UPSTREAM_TIMEOUT, MAX_UPSTREAMS_TRIED};

/// TTL of every locally answered record (Docker's embedded DNS uses 600 s).
pub const LOCAL_TTL: u32 = 600;

/// What the engine knows about names, asked by the DNS server of one container (`asker`).
///
/// Calls are synchronous and made on the runtime's worker threads, so they should be quick
/// (a lookup in an in-memory table).
pub trait Resolver: Send + Sync + 'static {
    /// A records for `name` (lower-case, without trailing dot) as seen by container `asker`.
    /// `None` means the name is not local; `Some(vec![])` means it is local but has no IPv4
    /// address (answered NOERROR with no records).
    fn lookup_ipv4(&self, asker: &str, name: &str) -> Option<Vec<Ipv4Addr>>;

    /// The name for an address on `asker`'s networks, e.g. `Some("web.mynet")` (a trailing dot
    /// is optional).
    fn lookup_ptr(&self, asker: &str, ip: Ipv4Addr) -> Option<String>;

    /// Whether queries not answered locally may be forwarded upstream: false when every network
    /// of `asker` is `--internal` (CVE-2024-29018). Such queries are answered SERVFAIL, as Docker.
    fn may_forward(&self, asker: &str) -> bool;

    /// Search domains of `asker`'s resolv.conf (e.g. `["corp.example"]`): a query for
    /// `web.corp.example` that is not itself local is retried as `web`. Empty by default.
    fn search_domains(&self, _asker: &str) -> Vec<String> {
        Vec::new()
    }
}
