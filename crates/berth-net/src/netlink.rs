//! Links, addresses and routes through rtnetlink: the bridge of a network, and one veth
//! pair per container endpoint.

use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use ipnet::Ipv4Net;
use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoVeth, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteHeader};
use netlink_packet_route::AddressFamily;
use rtnetlink::{
    Handle, LinkBridge, LinkBridgePort, LinkMessageBuilder, LinkUnspec, LinkVeth,
    RouteMessageBuilder,
};
use tokio::task::JoinHandle;

use crate::names::validate_ifname;
use crate::netns::netns_run;
use crate::sysctl::set_sysctl;
use crate::NetError;

/// One container endpoint: a veth pair with its host end on `bridge` and its other end
/// inside the container's network namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointSpec {
    pub bridge: String,
    pub host_ifname: String,
    /// The network namespace file (see [`crate::netns_create`]).
    pub netns: PathBuf,
    pub container_ifname: String,
    /// The container's address with the network's prefix length, e.g. 172.17.0.2/16.
    pub address: Ipv4Net,
    /// Installs a default route through this gateway when set.
    pub gateway: Option<Ipv4Addr>,
    pub mac: [u8; 6],
    pub mtu: Option<u32>,
}

/// What a caller may want to know about one link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkDetails {
    pub index: u32,
    pub name: String,
    /// `bridge`, `veth`, ...; `None` for links without a kind (loopback, physical).
    pub kind: Option<String>,
    pub mac: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Index of the bridge (or other controller) the link is enslaved to.
    pub master: Option<u32>,
}

/// A connection to the kernel's routing netlink in one network namespace.
pub struct Netlink {
    handle: Handle,
    conn: JoinHandle<()>,
}

impl Drop for Netlink {
    fn drop(&mut self) {
        self.conn.abort();
    }
}

const ENODEV: i32 = nix::libc::ENODEV;
const EEXIST: i32 = nix::libc::EEXIST;
const EADDRNOTAVAIL: i32 = nix::libc::EADDRNOTAVAIL;

fn nl_errno(e: &rtnetlink::Error) -> Option<i32> {
    match e {
        rtnetlink::Error::NetlinkError(m) => Some(m.raw_code().abs()),
        _ => None,
    }
}

fn details(msg: &LinkMessage) -> LinkDetails {
    let mut d = LinkDetails {
        index: msg.header.index,
        name: String::new(),
        kind: None,
        mac: None,
        mtu: None,
        up: msg.header.flags.contains(LinkFlags::Up),
        master: None,
    };
    for attr in &msg.attributes {
        match attr {
            LinkAttribute::IfName(n) => d.name = n.clone(),
            LinkAttribute::Mtu(m) => d.mtu = Some(*m),
            LinkAttribute::Controller(c) => d.master = Some(*c),
            LinkAttribute::Address(a) => d.mac = a.as_slice().try_into().ok(),
            LinkAttribute::LinkInfo(infos) => {
                for i in infos {
                    if let LinkInfo::Kind(k) = i {
                        d.kind = Some(k.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    d
}

/// A random unicast, locally administered MAC.
fn random_mac() -> [u8; 6] {
    let mut m: [u8; 6] = rand::random();
    m[0] = (m[0] & 0xfe) | 0x02;
    m
}

fn ipv4_of(msg: &AddressMessage) -> Option<Ipv4Net> {
    if msg.header.family != AddressFamily::Inet {
        return None;
    }
    // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer on
    // point-to-point links, so prefer IFA_LOCAL when both are present.
    let mut addr = None;
    for a in &msg.attributes {
        match a {
            AddressAttribute::Local(IpAddr::V4(v)) => addr = Some(*v),
            AddressAttribute::Address(IpAddr::V4(v)) if addr.is_none() => addr = Some(*v),
            _ => {}
        }
    }
    Ipv4Net::new(addr?, msg.header.prefix_len).ok()
}

impl Netlink {
    /// Connects in the calling thread's network namespace (the host's, for the daemon).
    /// Must be called inside a tokio runtime.
    pub async fn new() -> Result<Self, NetError> {
        let (conn, handle, _) =
            rtnetlink::new_connection().map_err(|e| NetError::io("opening a netlink socket", e))?;
        Ok(Netlink {
            handle,
            conn: tokio::spawn(conn),
        })
    }

    /// Connects inside the network namespace at `path`: the socket is opened there, so
    /// every request through this connection acts on that namespace.
    pub async fn in_netns(path: &Path) -> Result<Self, NetError> {
        let rt = tokio::runtime::Handle::current();
        let (conn, handle, _) = netns_run(path, move || {
            // The socket registers with the caller's runtime, from this thread.
            let _guard = rt.enter();
            rtnetlink::new_connection()
        })?
        .map_err(|e| NetError::io(format!("opening a netlink socket in {}", path.display()), e))?;
        Ok(Netlink {
            handle,
            conn: tokio::spawn(conn),
        })
    }

    async fn link_msg(&self, name: &str) -> Result<Option<LinkMessage>, NetError> {
        let mut stream = self.handle.link().get().match_name(name).execute();
        match stream.try_next().await {
            Ok(m) => Ok(m),
            Err(e) if nl_errno(&e) == Some(ENODEV) => Ok(None),
            Err(e) => Err(NetError::netlink(format!("look up link {name}"), e)),
        }
    }

    /// Details of the link called `name`, `None` when there is none.
    pub async fn link(&self, name: &str) -> Result<Option<LinkDetails>, NetError> {
        validate_ifname(name)?;
        Ok(self.link_msg(name).await?.as_ref().map(details))
    }

    async fn index_of(&self, name: &str) -> Result<u32, NetError> {
        self.link_msg(name)
            .await?
            .map(|m| m.header.index)
            .ok_or_else(|| NetError::LinkNotFound(name.to_string()))
    }

    /// Every link of the namespace.
    pub async fn links(&self) -> Result<Vec<LinkDetails>, NetError> {
        let msgs: Vec<LinkMessage> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| NetError::netlink("list links", e))?;
        Ok(msgs.iter().map(details).collect())
    }

    pub async fn link_names(&self) -> Result<Vec<String>, NetError> {
        Ok(self.links().await?.into_iter().map(|l| l.name).collect())
    }

    pub async fn set_link_up(&self, name: &str) -> Result<(), NetError> {
        let index = self.index_of(name).await?;
        self.handle
            .link()
            .set(LinkUnspec::new_with_index(index).up().build())
            .execute()
            .await
            .map_err(|e| NetError::netlink(format!("set link {name} up"), e))
    }

    /// IPv4 addresses of one link (address with prefix length, e.g. 172.17.0.1/16).
    pub async fn link_ipv4(&self, name: &str) -> Result<Vec<Ipv4Net>, NetError> {
        let index = self.index_of(name).await?;
        Ok(self
            .addr_msgs()
            .await?
            .iter()
            .filter(|m| m.header.index == index)
            .filter_map(ipv4_of)
            .collect())
    }

    async fn addr_msgs(&self) -> Result<Vec<AddressMessage>, NetError> {
        self.handle
            .address()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|e| NetError::netlink("list addresses", e))
    }

    /// The gateway of the IPv4 default route in the main table, if any.
    pub async fn default_gateway_v4(&self) -> Result<Option<Ipv4Addr>, NetError> {
        for r in self.main_routes().await? {
            if r.header.destination_prefix_length != 0 {
                continue;
            }
            for a in &r.attributes {
                if let RouteAttribute::Gateway(RouteAddress::Inet(gw)) = a {
                    return Ok(Some(*gw));
                }
            }
        }
        Ok(None)
    }

    async fn main_routes(
        &self,
    ) -> Result<Vec<netlink_packet_route::route::RouteMessage>, NetError> {
        let all: Vec<_> = self
            .handle
            .route()
            .get(RouteMessageBuilder::<Ipv4Addr>::new().build())
            .execute()
            .try_collect()
            .await
            .map_err(|e| NetError::netlink("list routes", e))?;
        Ok(all
            .into_iter()
            .filter(|r| {
                let table = r
                    .attributes
                    .iter()
                    .find_map(|a| match a {
                        RouteAttribute::Table(t) => Some(*t),
                        _ => None,
                    })
                    .unwrap_or(u32::from(r.header.table));
                table == u32::from(RouteHeader::RT_TABLE_MAIN)
            })
            .collect())
    }

    /// IPv4 destinations the host already uses: main-table routes other than the
    /// default route, and the subnets of the host's interface addresses. New networks
    /// must not overlap them.
    pub async fn host_routes(&self) -> Result<Vec<Ipv4Net>, NetError> {
        self.host_routes_except(&[]).await
    }

    /// [`Netlink::host_routes`] without the routes and addresses of the links named in
    /// `skip` (the engine's own bridges, which it counts separately).
    pub async fn host_routes_except(&self, skip: &[&str]) -> Result<Vec<Ipv4Net>, NetError> {
        let mut skip_idx = Vec::new();
        for name in skip {
            if let Some(m) = self.link_msg(name).await? {
                skip_idx.push(m.header.index);
            }
        }
        let mut out: Vec<Ipv4Net> = Vec::new();
        for r in self.main_routes().await? {
            let oif = r.attributes.iter().find_map(|a| match a {
                RouteAttribute::Oif(i) => Some(*i),
                _ => None,
            });
            if oif.is_some_and(|i| skip_idx.contains(&i)) || r.header.destination_prefix_length == 0
            {
                continue;
            }
            let dst = r.attributes.iter().find_map(|a| match a {
                RouteAttribute::Destination(RouteAddress::Inet(d)) => Some(*d),
                _ => None,
            });
            if let Some(net) =
                dst.and_then(|d| Ipv4Net::new(d, r.header.destination_prefix_length).ok())
            {
                out.push(net.trunc());
            }
        }
        for m in self.addr_msgs().await? {
            if skip_idx.contains(&m.header.index) {
                continue;
            }
            if let Some(net) = ipv4_of(&m) {
                out.push(net.trunc());
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Creates the bridge if missing and makes its IPv4 address exactly `gateway`
    /// (e.g. 172.17.0.1/16), sets the MTU when given, brings it up, and sets the
    /// sysctls published ports need: `route_localnet` on the bridge (DNAT of the host's
    /// 127.0.0.1 traffic) and `ip_forward`.
    pub async fn ensure_bridge(
        &self,
        name: &str,
        gateway: Ipv4Net,
        mtu: Option<u32>,
    ) -> Result<(), NetError> {
        validate_ifname(name)?;
        let existing = self.link_msg(name).await?;
        let index = match existing {
            Some(m) => {
                if details(&m).kind.as_deref() != Some("bridge") {
                    return Err(NetError::NotABridge(name.to_string()));
                }
                m.header.index
            }
            None => {
                // A fixed MAC: otherwise the bridge takes the lowest MAC of its ports and
                // changes it as containers come and go, leaving stale gateway entries in
                // the containers' ARP caches.
                let mut b = LinkBridge::new(name).address(random_mac().to_vec());
                if let Some(mtu) = mtu {
                    b = b.mtu(mtu);
                }
                match self.handle.link().add(b.build()).execute().await {
                    Ok(()) => {}
                    // Someone else made it meanwhile; it is checked below like any other.
                    Err(e) if nl_errno(&e) == Some(EEXIST) => {}
                    Err(e) => return Err(NetError::netlink(format!("create bridge {name}"), e)),
                }
                let m = self
                    .link_msg(name)
                    .await?
                    .ok_or_else(|| NetError::LinkNotFound(name.to_string()))?;
                if details(&m).kind.as_deref() != Some("bridge") {
                    return Err(NetError::NotABridge(name.to_string()));
                }
                m.header.index
            }
        };
        if let Some(mtu) = mtu {
            self.handle
                .link()
                .set(LinkUnspec::new_with_index(index).mtu(mtu).build())
                .execute()
                .await
                .map_err(|e| NetError::netlink(format!("set mtu {mtu} on {name}"), e))?;
        }
        self.set_only_ipv4(name, index, gateway).await?;
        self.handle
            .link()
            .set(LinkUnspec::new_with_index(index).up().build())
            .execute()
            .await
            .map_err(|e| NetError::netlink(format!("set bridge {name} up"), e))?;
        set_sysctl(&format!("net/ipv4/conf/{name}/route_localnet"), "1")?;
        set_sysctl("net/ipv4/ip_forward", "1")?;
        tracing::debug!(bridge = name, %gateway, "bridge ready");
        Ok(())
    }

    /// Removes every other IPv4 address of the link and adds `want` if missing.
    async fn set_only_ipv4(&self, name: &str, index: u32, want: Ipv4Net) -> Result<(), NetError> {
        let mut present = false;
        for m in self.addr_msgs().await? {
            if m.header.index != index {
                continue;
            }
            let Some(have) = ipv4_of(&m) else { continue };
            if have == want {
                present = true;
                continue;
            }
            match self.handle.address().del(m).execute().await {
                Ok(()) => {}
                Err(e) if nl_errno(&e) == Some(EADDRNOTAVAIL) => {}
                Err(e) => return Err(NetError::netlink(format!("remove {have} from {name}"), e)),
            }
        }
        if !present {
            self.handle
                .address()
                .add(index, IpAddr::V4(want.addr()), want.prefix_len())
                .execute()
                .await
                .map_err(|e| NetError::netlink(format!("add {want} to {name}"), e))?;
        }
        Ok(())
    }

    /// Deletes a link; one that does not exist is fine.
    pub async fn delete_link(&self, name: &str) -> Result<(), NetError> {
        validate_ifname(name)?;
        let Some(m) = self.link_msg(name).await? else {
            return Ok(());
        };
        match self.handle.link().del(m.header.index).execute().await {
            Ok(()) => Ok(()),
            Err(e) if nl_errno(&e) == Some(ENODEV) => Ok(()),
            Err(e) => Err(NetError::netlink(format!("delete link {name}"), e)),
        }
    }

    /// Creates a container endpoint. The peer is created directly inside the
    /// container's namespace under its final name and MAC (one request, so no temporary
    /// name can clash in the host namespace); then the host end joins the bridge and
    /// comes up, and inside the namespace the address, link state and default route are
    /// set. On any failure the host end is deleted, which deletes the peer with it.
    pub async fn create_endpoint(&self, ep: &EndpointSpec) -> Result<(), NetError> {
        validate_ifname(&ep.bridge)?;
        validate_ifname(&ep.host_ifname)?;
        validate_ifname(&ep.container_ifname)?;
        let bridge = self.index_of(&ep.bridge).await?;
        let ns = std::fs::File::open(&ep.netns).map_err(|e| NetError::Netns {
            path: ep.netns.clone(),
            op: "open",
            source: e,
        })?;

        let mut peer = LinkMessageBuilder::<LinkUnspec>::new()
            .name(ep.container_ifname.clone())
            .address(ep.mac.to_vec())
            .setns_by_fd(ns.as_raw_fd());
        let mut veth = LinkVeth::new(&ep.host_ifname, &ep.container_ifname);
        if let Some(mtu) = ep.mtu {
            peer = peer.mtu(mtu);
            veth = veth.mtu(mtu);
        }
        let veth = veth.set_info_data(InfoData::Veth(InfoVeth::Peer(peer.build())));
        self.handle
            .link()
            .add(veth.build())
            .execute()
            .await
            .map_err(|e| {
                NetError::netlink(
                    format!(
                        "create veth pair {}/{}",
                        ep.host_ifname, ep.container_ifname
                    ),
                    e,
                )
            })?;
        drop(ns);

        if let Err(e) = self.finish_endpoint(ep, bridge).await {
            if let Err(cleanup) = self.delete_link(&ep.host_ifname).await {
                tracing::warn!(link = %ep.host_ifname, error = %cleanup, "cleanup of half-made endpoint failed");
            }
            return Err(e);
        }
        tracing::debug!(host = %ep.host_ifname, bridge = %ep.bridge, address = %ep.address, "endpoint created");
        Ok(())
    }

    async fn finish_endpoint(&self, ep: &EndpointSpec, bridge: u32) -> Result<(), NetError> {
        let host = self.index_of(&ep.host_ifname).await?;
        self.handle
            .link()
            .set(
                LinkUnspec::new_with_index(host)
                    .controller(bridge)
                    .up()
                    .build(),
            )
            .execute()
            .await
            .map_err(|e| {
                NetError::netlink(format!("attach {} to {}", ep.host_ifname, ep.bridge), e)
            })?;
        // Hairpin lets a container reach its own published port through the host.
        self.handle
            .link()
            .set_port(LinkBridgePort::new(host).hairpin(true).build())
            .execute()
            .await
            .map_err(|e| NetError::netlink(format!("set hairpin on {}", ep.host_ifname), e))?;

        let inner = Netlink::in_netns(&ep.netns).await?;
        let name = &ep.container_ifname;
        let index = inner.index_of(name).await?;
        inner
            .handle
            .address()
            .add(
                index,
                IpAddr::V4(ep.address.addr()),
                ep.address.prefix_len(),
            )
            .execute()
            .await
            .map_err(|e| NetError::netlink(format!("add {} to {name}", ep.address), e))?;
        inner
            .handle
            .link()
            .set(LinkUnspec::new_with_index(index).up().build())
            .execute()
            .await
            .map_err(|e| NetError::netlink(format!("set {name} up"), e))?;
        inner.set_link_up("lo").await?;
        if let Some(gw) = ep.gateway {
            inner
                .handle
                .route()
                .add(
                    RouteMessageBuilder::<Ipv4Addr>::new()
                        .gateway(gw)
                        .output_interface(index)
                        .build(),
                )
                .execute()
                .await
                .map_err(|e| NetError::netlink(format!("add default route via {gw}"), e))?;
        }
        Ok(())
    }

    /// Deletes an endpoint by its host-side name (the peer goes with it); an endpoint
    /// that is already gone is fine.
    pub async fn remove_endpoint(&self, host_ifname: &str) -> Result<(), NetError> {
        self.delete_link(host_ifname).await
    }
}
