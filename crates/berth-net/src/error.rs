//! The one error type of the crate. Messages that users see through the engine (IPAM
//! validation, published-port conflicts) use Docker's wording.

use std::io;
use std::net::Ipv4Addr;
use std::path::PathBuf;

use ipnet::Ipv4Net;

use crate::ports::Proto;

#[derive(thiserror::Error, Debug)]
pub enum NetError {
    #[error("invalid interface name {name:?}: {reason}")]
    InvalidLinkName { name: String, reason: &'static str },

    #[error("network namespace {}: {op}: {source}", path.display())]
    Netns {
        path: PathBuf,
        op: &'static str,
        #[source]
        source: io::Error,
    },

    /// A netlink request failed; `op` says what was asked (e.g. `create bridge br-1`).
    #[error("{op}: {source}")]
    Netlink {
        op: String,
        #[source]
        source: io::Error,
    },

    #[error("link {0} not found")]
    LinkNotFound(String),

    #[error("link {0} exists and is not a bridge")]
    NotABridge(String),

    #[error("setting sysctl {path}: {source}")]
    Sysctl {
        path: String,
        #[source]
        source: io::Error,
    },

    #[error("invalid subnet {given}: it should be {canonical}")]
    NonCanonicalSubnet { given: Ipv4Net, canonical: Ipv4Net },

    #[error("invalid ip range {given}: it should be {canonical}")]
    NonCanonicalRange { given: Ipv4Net, canonical: Ipv4Net },

    #[error("no matching subnet for gateway {0}")]
    GatewayOutsideSubnet(Ipv4Addr),

    #[error("no matching subnet for range {0}")]
    RangeOutsideSubnet(Ipv4Net),

    #[error("no matching subnet for aux-address {0}")]
    AuxOutsideSubnet(Ipv4Addr),

    #[error("Invalid address {0}: It does not belong to any of this network's subnets")]
    AddressOutsideSubnet(Ipv4Addr),

    /// Docker says exactly this for a static `--ip` that is taken.
    #[error("Address already in use")]
    AddressInUse(Ipv4Addr),

    #[error("invalid address pool: {0}")]
    InvalidPool(String),

    #[error("invalid nftables name {name:?}: {reason}")]
    InvalidNftName { name: String, reason: &'static str },

    #[error("cannot run nft (is the nftables package installed?): {0}")]
    NftExec(#[source] io::Error),

    #[error("nft {op} table ip {table} failed: {stderr}")]
    Nft {
        table: String,
        op: &'static str,
        stderr: String,
    },

    /// The host port is held by another process (or another container).
    #[error("Bind for {host_ip}:{port} failed: port is already allocated")]
    PortAllocated {
        proto: Proto,
        host_ip: Ipv4Addr,
        port: u16,
        #[source]
        source: io::Error,
    },

    #[error("failed to bind host port {host_ip}:{port}/{proto}: {source}")]
    PortBind {
        proto: Proto,
        host_ip: Ipv4Addr,
        port: u16,
        #[source]
        source: io::Error,
    },

    #[error("no free host port for {proto} on {host_ip} in the range {low}-{high}")]
    NoFreePort {
        proto: Proto,
        host_ip: Ipv4Addr,
        low: u16,
        high: u16,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl NetError {
    /// The kind of the underlying OS error, when there is one (e.g. `AddrInUse` for a
    /// taken host port, `PermissionDenied` when not root).
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            NetError::Netns { source, .. }
            | NetError::Netlink { source, .. }
            | NetError::Sysctl { source, .. }
            | NetError::NftExec(source)
            | NetError::PortAllocated { source, .. }
            | NetError::PortBind { source, .. }
            | NetError::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }

    /// The raw OS error number, when there is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            NetError::Netns { source, .. }
            | NetError::Netlink { source, .. }
            | NetError::Sysctl { source, .. }
            | NetError::NftExec(source)
            | NetError::PortAllocated { source, .. }
            | NetError::PortBind { source, .. }
            | NetError::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        NetError::Io {
            context: context.into(),
            source,
        }
    }

    /// Wraps a netlink failure, turning the kernel's errno into an `io::Error`.
    pub(crate) fn netlink(op: impl Into<String>, err: rtnetlink::Error) -> Self {
        let source = match err {
            rtnetlink::Error::NetlinkError(msg) => msg.to_io(),
            other => io::Error::other(other.to_string()),
        };
        NetError::Netlink {
            op: op.into(),
            source,
        }
    }
}
