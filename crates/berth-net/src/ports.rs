//! Published ports: holding the host port while a container publishes it.
//!
//! Published traffic is DNATed by nftables and never reaches a host socket, so without
//! a socket another process could bind the same port and silently lose its traffic to
//! the container. A [`PortReservation`] keeps a socket bound (TCP: bound, not listening;
//! UDP: bound) for as long as the container runs; dropping it frees the port. The sockets
//! are bound without `SO_REUSEADDR`, so no other socket can share the port.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::str::FromStr;

use rand::Rng;
use socket2::{Domain, Socket, Type};

use crate::NetError;

/// Where the kernel keeps the ephemeral port range; `-p CONTAINER` picks from it as
/// Docker does.
pub const LOCAL_PORT_RANGE: &str = "/proc/sys/net/ipv4/ip_local_port_range";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Proto {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(Proto::Tcp),
            "udp" => Ok(Proto::Udp),
            _ => Err(format!("invalid proto: {s}")),
        }
    }
}

/// A host port held for a published container port; dropping it releases the port.
#[derive(Debug)]
pub struct PortReservation {
    proto: Proto,
    addr: SocketAddrV4,
    _socket: Socket,
}

impl PortReservation {
    pub fn proto(&self) -> Proto {
        self.proto
    }

    pub fn host_ip(&self) -> Ipv4Addr {
        *self.addr.ip()
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

fn bind(proto: Proto, host_ip: Ipv4Addr, port: u16) -> io::Result<(Socket, SocketAddrV4)> {
    let ty = match proto {
        Proto::Tcp => Type::STREAM,
        Proto::Udp => Type::DGRAM,
    };
    let socket = Socket::new(Domain::IPV4, ty, None)?;
    socket.bind(&SocketAddr::V4(SocketAddrV4::new(host_ip, port)).into())?;
    let local = socket
        .local_addr()?
        .as_socket_ipv4()
        .ok_or_else(|| io::Error::other("bound socket has no IPv4 address"))?;
    Ok((socket, local))
}

/// Holds `host_ip:port` (all addresses when `host_ip` is `None`). A port that is
/// taken gives [`NetError::PortAllocated`], whose message is Docker's.
pub fn reserve_port(
    proto: Proto,
    host_ip: Option<Ipv4Addr>,
    port: u16,
) -> Result<PortReservation, NetError> {
    let ip = host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    match bind(proto, ip, port) {
        Ok((socket, addr)) => Ok(PortReservation {
            proto,
            addr,
            _socket: socket,
        }),
        Err(source) if source.kind() == io::ErrorKind::AddrInUse => Err(NetError::PortAllocated {
            proto,
            host_ip: ip,
            port,
            source,
        }),
        Err(source) => Err(NetError::PortBind {
            proto,
            host_ip: ip,
            port,
            source,
        }),
    }
}

/// Parses the two numbers of `ip_local_port_range`.
pub fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let mut it = text.split_whitespace().map(|s| s.parse::<u16>());
    let (lo, hi) = (it.next()?.ok()?, it.next()?.ok()?);
    (it.next().is_none() && lo >= 1 && lo <= hi).then_some((lo, hi))
}

fn local_port_range() -> Result<(u16, u16), NetError> {
    let text = std::fs::read_to_string(LOCAL_PORT_RANGE)
        .map_err(|e| NetError::io(format!("reading {LOCAL_PORT_RANGE}"), e))?;
    parse_port_range(&text).ok_or_else(|| {
        NetError::io(
            format!("parsing {LOCAL_PORT_RANGE}"),
            io::Error::new(io::ErrorKind::InvalidData, text.trim().to_string()),
        )
    })
}

/// Holds a free port out of the kernel's ephemeral range, for `-p CONTAINER` and `-P`.
/// The search starts at a random port so that concurrent callers rarely collide.
pub fn reserve_free_port(
    proto: Proto,
    host_ip: Option<Ipv4Addr>,
) -> Result<(u16, PortReservation), NetError> {
    let (lo, hi) = local_port_range()?;
    reserve_free_port_in(proto, host_ip, lo, hi)
}

/// [`reserve_free_port`] over an explicit inclusive range.
pub fn reserve_free_port_in(
    proto: Proto,
    host_ip: Option<Ipv4Addr>,
    lo: u16,
    hi: u16,
) -> Result<(u16, PortReservation), NetError> {
    let ip = host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    if lo == 0 || lo > hi {
        return Err(NetError::NoFreePort {
            proto,
            host_ip: ip,
            low: lo,
            high: hi,
        });
    }
    let start = rand::thread_rng().gen_range(lo..=hi);
    for port in (start..=hi).chain(lo..start) {
        match reserve_port(proto, host_ip, port) {
            Ok(r) => return Ok((port, r)),
            Err(NetError::PortAllocated { .. }) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(NetError::NoFreePort {
        proto,
        host_ip: ip,
        low: lo,
        high: hi,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_parses_and_prints() {
        assert_eq!("TCP".parse::<Proto>(), Ok(Proto::Tcp));
        assert_eq!("udp".parse::<Proto>(), Ok(Proto::Udp));
        assert!("sctp".parse::<Proto>().is_err());
        assert_eq!(Proto::Udp.to_string(), "udp");
    }

    #[test]
    fn port_range_parsing() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("1024 1024"), Some((1024, 1024)));
        assert_eq!(parse_port_range("60999 32768"), None);
        assert_eq!(parse_port_range("0 10"), None);
        assert_eq!(parse_port_range("1 2 3"), None);
        assert_eq!(parse_port_range("abc"), None);
    }

    #[test]
    fn allocated_message_is_dockers() {
        let e = NetError::PortAllocated {
            proto: Proto::Tcp,
            host_ip: Ipv4Addr::UNSPECIFIED,
            port: 18080,
            source: io::Error::from(io::ErrorKind::AddrInUse),
        };
        assert_eq!(
            e.to_string(),
            "Bind for 0.0.0.0:18080 failed: port is already allocated"
        );
        assert_eq!(e.io_kind(), Some(io::ErrorKind::AddrInUse));
    }
}
