//! Container networking primitives for Berth's bridge networks.
//!
//! Owns: network namespaces kept on files ([`netns_create`], [`netns_run`]; for a remapped
//! container, user namespaces too and network namespaces they own, [`userns_create`],
//! [`netns_create_in_userns`]), bridges and veth endpoints through rtnetlink ([`Netlink`]),
//! subnet and address allocation ([`SubnetPools`], [`AddressPool`]), one nftables table
//! with NAT, published-port DNAT and isolation rules ([`nft_apply`]), and host-port
//! reservations for published ports ([`reserve_port`]).
//!
//! It must not know about containers, networks as API objects, the store or the daemon:
//! callers pass plain descriptions (names, subnets, addresses, ports) and persist what
//! they get back. IPAM is pure logic; everything that touches the host is explicit.
//! Links, addresses and routes go through netlink only, never by running `ip`.

mod error;
mod ipam;
mod names;
mod netlink;
mod netns;
mod nft;
mod ports;
mod sysctl;
mod userns;

pub use error::NetError;
pub use ipam::{default_gateway, overlaps, AddressPool, SubnetPools};
pub use ipnet::Ipv4Net;
pub use names::{
    format_mac, host_veth_name, mac_for_ip, parse_mac, validate_ifname, MAX_IFNAME_LEN,
};
pub use netlink::{EndpointSpec, LinkDetails, Netlink};
pub use netns::{netns_create, netns_remove, netns_run};
pub use nft::{nft_apply, nft_list, nft_remove, NftNetwork, NftPort, NftRuleset};
pub use ports::{
    parse_port_range, reserve_free_port, reserve_free_port_in, reserve_port, PortReservation,
    Proto, LOCAL_PORT_RANGE,
};
pub use userns::{netns_create_in_userns, userns_create, UsernsMaps};
