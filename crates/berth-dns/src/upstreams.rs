//! The upstream resolvers non-local queries are forwarded to, and reading them from the host.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// How long one upstream server gets to answer (UDP, plus the TCP retry of a truncated answer)
/// before the next one is tried.
pub const DEFAULT_UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);

/// At most this many servers are tried per query, so a query waits at most
/// `MAX_UPSTREAMS_TRIED * timeout` before it is answered SERVFAIL.
pub const MAX_UPSTREAMS_TRIED: usize = 3;

const HOST_RESOLV_CONF: &str = "/etc/resolv.conf";
const RESOLVED_UPSTREAM_RESOLV_CONF: &str = "/run/systemd/resolve/resolv.conf";
const DNS_PORT: u16 = 53;

/// systemd-resolved's stub listeners (127.0.0.53 and, since v253, 127.0.0.54).
fn is_resolved_stub(ip: &IpAddr) -> bool {
    matches!(ip, IpAddr::V4(v4) if *v4 == Ipv4Addr::new(127, 0, 0, 53) || *v4 == Ipv4Addr::new(127, 0, 0, 54))
}

/// Upstream DNS servers, shared by every [`crate::DnsServer`] that forwards to them. The list can
/// be replaced while servers run (e.g. after the host's resolv.conf changed).
#[derive(Debug)]
pub struct Upstreams {
    servers: RwLock<Arc<[SocketAddr]>>,
    timeout: Duration,
}

impl Upstreams {
    /// Forward to `servers`, tried in order, each for [`DEFAULT_UPSTREAM_TIMEOUT`].
    pub fn new(servers: Vec<SocketAddr>) -> Self {
        Upstreams {
            servers: RwLock::new(servers.into()),
            timeout: DEFAULT_UPSTREAM_TIMEOUT,
        }
    }

    /// The same servers with another per-server timeout.
    pub fn with_timeout(mut self, per_server: Duration) -> Self {
        self.timeout = per_server;
        self
    }

    /// The host's effective upstream resolvers (see [`Upstreams::host_nameservers`]) on port 53.
    /// An empty list (no readable resolv.conf, no nameserver lines) makes every forwarded query
    /// fail with SERVFAIL; there is deliberately no public fallback such as 8.8.8.8.
    pub fn from_host_resolv_conf() -> Self {
        let ips = Self::host_nameservers(
            Path::new(HOST_RESOLV_CONF),
            Path::new(RESOLVED_UPSTREAM_RESOLV_CONF),
        );
        if ips.is_empty() {
            tracing::warn!(
                "no nameserver found in {HOST_RESOLV_CONF}; embedded DNS cannot forward queries"
            );
        }
        Self::new(
            ips.into_iter()
                .map(|ip| SocketAddr::new(ip, DNS_PORT))
                .collect(),
        )
    }

    /// Nameservers of the host resolv.conf at `host_conf`; when it lists only systemd-resolved's
    /// stub (127.0.0.53), the real upstreams from `resolved_conf` instead. Should that file be
    /// missing or empty, the stub itself is kept: forwarding happens in the daemon's network
    /// namespace, where the stub is reachable.
    pub fn host_nameservers(host_conf: &Path, resolved_conf: &Path) -> Vec<IpAddr> {
        let host = match std::fs::read_to_string(host_conf) {
            Ok(text) => Self::parse_resolv_conf(&text),
            Err(err) => {
                tracing::warn!("cannot read {}: {err}", host_conf.display());
                return Vec::new();
            }
        };
        if host.is_empty() || !host.iter().all(is_resolved_stub) {
            return host;
        }
        let resolved = std::fs::read_to_string(resolved_conf)
            .map(|text| Self::parse_resolv_conf(&text))
            .unwrap_or_default();
        let real: Vec<IpAddr> = resolved
            .into_iter()
            .filter(|ip| !is_resolved_stub(ip))
            .collect();
        if real.is_empty() {
            host
        } else {
            real
        }
    }

    /// Every `nameserver` address of a resolv.conf text, in order. Comments (`#`, `;`) and
    /// unparsable addresses (e.g. IPv6 with a `%zone`, which cannot be used from another
    /// namespace) are skipped.
    pub fn parse_resolv_conf(text: &str) -> Vec<IpAddr> {
        text.lines()
            .filter_map(|line| {
                let line = line.split(['#', ';']).next().unwrap_or_default();
                let mut words = line.split_whitespace();
                if words.next()? != "nameserver" {
                    return None;
                }
                words.next()?.parse().ok()
            })
            .collect()
    }

    /// The servers, in the order they are tried.
    pub fn servers(&self) -> Arc<[SocketAddr]> {
        Arc::clone(&self.servers.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Replaces the servers; queries already being forwarded finish with the old list.
    pub fn set_servers(&self, servers: Vec<SocketAddr>) {
        *self.servers.write().unwrap_or_else(|e| e.into_inner()) = servers.into();
    }

    /// How long each server gets to answer.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv6Addr;

    #[test]
    fn parse_keeps_every_nameserver_in_order_and_skips_comments() {
        let text = "# generated\nsearch corp.example\nnameserver 10.0.0.2\n\
                    ;nameserver 10.9.9.9\nnameserver 2001:db8::1 # v6\n\
                    nameserver fe80::1%eth0\nnameserver\noptions ndots:1\n  nameserver   127.0.0.1\n";
        assert_eq!(
            Upstreams::parse_resolv_conf(text),
            vec![
                IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
                IpAddr::V6("2001:db8::1".parse::<Ipv6Addr>().unwrap()),
                IpAddr::V4(Ipv4Addr::LOCALHOST),
            ]
        );
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn systemd_resolved_stub_is_read_through() {
        let dir = tempfile::tempdir().unwrap();
        let host = write(dir.path(), "host", "nameserver 127.0.0.53\noptions edns0\n");
        let resolved = write(
            dir.path(),
            "resolved",
            "nameserver 192.0.2.1\nnameserver 192.0.2.2\n",
        );
        assert_eq!(
            Upstreams::host_nameservers(&host, &resolved),
            vec![
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
                IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            ]
        );
    }

    #[test]
    fn stub_is_kept_when_resolved_has_no_upstreams() {
        let dir = tempfile::tempdir().unwrap();
        let host = write(dir.path(), "host", "nameserver 127.0.0.53\n");
        let missing = dir.path().join("missing");
        assert_eq!(
            Upstreams::host_nameservers(&host, &missing),
            vec![IpAddr::V4(Ipv4Addr::new(127, 0, 0, 53))]
        );
    }

    #[test]
    fn ordinary_host_conf_is_used_as_is() {
        let dir = tempfile::tempdir().unwrap();
        let host = write(
            dir.path(),
            "host",
            "nameserver 127.0.0.53\nnameserver 198.51.100.7\n",
        );
        let resolved = write(dir.path(), "resolved", "nameserver 192.0.2.1\n");
        assert_eq!(
            Upstreams::host_nameservers(&host, &resolved),
            vec![
                IpAddr::V4(Ipv4Addr::new(127, 0, 0, 53)),
                IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
            ]
        );
        assert!(Upstreams::host_nameservers(&dir.path().join("missing"), &resolved).is_empty());
    }

    #[test]
    fn servers_can_be_replaced() {
        let first: SocketAddr = "192.0.2.1:53".parse().unwrap();
        let second: SocketAddr = "192.0.2.2:5353".parse().unwrap();
        let upstreams = Upstreams::new(vec![first]).with_timeout(Duration::from_millis(300));
        assert_eq!(&*upstreams.servers(), &[first]);
        upstreams.set_servers(vec![second]);
        assert_eq!(&*upstreams.servers(), &[second]);
        assert_eq!(upstreams.timeout(), Duration::from_millis(300));
    }
}
