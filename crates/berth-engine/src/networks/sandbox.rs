//! A container's network sandbox: the namespace, one veth endpoint per network, published
//! ports and the embedded DNS server. Made at start, undone at exit, changed live by
//! connect and disconnect, picked up again after a daemon restart.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_api::models::{EndpointSettings, HostConfig, NetworkingConfig};
use berth_core::ErrorKind;
use berth_net::{EndpointSpec, Ipv4Net, Proto};

use super::dns::EngineResolver;
use super::ports::{self, PortRequest};
use super::{forbidden, net_error, NetworkRecord, NetworkService};
use crate::containers::record::{Durability, EndpointState, PublishedPort};
use crate::containers::{internal, lock, Container};
use crate::error::EngineError;
use crate::Engine;

/// What the container's /etc files and spec need from its sandbox.
#[derive(Debug, Clone)]
pub struct SandboxInfo {
    /// The network namespace to join.
    pub netns: PathBuf,
    /// The container's address on its first network (its /etc/hosts line).
    pub own_ip: Option<String>,
    /// `--link` lines for /etc/hosts (default bridge).
    pub hosts_lines: Vec<String>,
    /// On a user-defined network: resolv.conf points at 127.0.0.11.
    pub embedded_dns: bool,
}

/// host, none and container: modes have no sandbox of ours.
pub fn uses_sandbox(mode: &str) -> bool {
    !(mode == "host" || mode == "none" || mode.starts_with("container:"))
}

fn primary_network_name(mode: &str) -> &str {
    match mode {
        "" | "default" => "bridge",
        m => m,
    }
}

fn invalid(msg: impl Into<String>) -> EngineError {
    EngineError::InvalidParameter(msg.into())
}

/// The endpoint a create or connect asks for, checked against the network as Docker does.
fn requested_endpoint(
    net: &NetworkRecord,
    settings: &EndpointSettings,
) -> Result<EndpointState, EngineError> {
    let aliases = settings.aliases.clone().unwrap_or_default();
    let ipv4 = settings
        .ipam_config
        .as_ref()
        .and_then(|c| c.ipv4_address.clone())
        .filter(|s| !s.is_empty());
    if net.is_default_bridge() {
        if !aliases.is_empty() {
            return Err(invalid(
                "network-scoped alias is supported only for containers in user defined networks",
            ));
        }
        if ipv4.is_some() {
            return Err(invalid(
                "user specified IP address is supported on user defined networks only",
            ));
        }
    }
    if let Some(ip) = &ipv4 {
        ip.parse::<Ipv4Addr>()
            .map_err(|_| invalid(format!("invalid IPv4 address: {ip}")))?;
    }
    let mac = settings.mac_address.clone().filter(|m| !m.is_empty());
    if let Some(m) = &mac {
        berth_net::parse_mac(m).ok_or_else(|| invalid(format!("invalid MAC address: {m}")))?;
    }
    Ok(EndpointState {
        network_id: net.id.clone(),
        network_name: net.name.clone(),
        aliases,
        links: settings.links.clone().unwrap_or_default(),
        ipv4_requested: ipv4,
        mac_requested: mac,
        driver_opts: settings.driver_opts.clone(),
        ..Default::default()
    })
}

impl NetworkService {
    /// The endpoints a new container asks for: its NetworkMode's network first, then the
    /// others of `NetworkingConfig`, by name.
    pub fn plan_endpoints(
        &self,
        hc: &HostConfig,
        nc: Option<&NetworkingConfig>,
    ) -> Result<Vec<EndpointState>, EngineError> {
        let mode = hc.network_mode.clone().unwrap_or_default();
        if !uses_sandbox(&mode) {
            return Ok(Vec::new());
        }
        let primary_name = primary_network_name(&mode);
        let primary = self.get(primary_name)?;
        if !primary.is_bridge() {
            return Err(invalid(format!(
                "network {primary_name} cannot be used as a container's network mode"
            )));
        }
        // The CLI names the default network "default" when --network is not given.
        let configs: std::collections::HashMap<String, EndpointSettings> = nc
            .and_then(|n| n.endpoints_config.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                (
                    if k == "default" {
                        "bridge".to_owned()
                    } else {
                        k
                    },
                    v,
                )
            })
            .collect();
        let find = |net: &NetworkRecord| {
            configs
                .iter()
                .find(|(k, _)| {
                    *k == &net.name
                        || *k == &net.id
                        || (k.len() >= 12 && net.id.starts_with(k.as_str()))
                })
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        let mut out = vec![requested_endpoint(&primary, &find(&primary))?];
        let mut others: Vec<&String> = configs.keys().collect();
        others.sort();
        for key in others {
            let net = self.get(key)?;
            if net.id == primary.id {
                continue;
            }
            if !net.is_bridge() {
                return Err(invalid(format!(
                    "container cannot be connected to network {} and to {}",
                    primary.name, net.name
                )));
            }
            out.push(requested_endpoint(&net, &configs[key])?);
        }
        Ok(out)
    }
}

/// What a half-made sandbox holds, so a failure undoes exactly that.
#[derive(Default)]
struct Made {
    links: Vec<String>,
    ips: Vec<(String, Ipv4Addr)>,
}

async fn undo(svc: &NetworkService, made: Made, netns: Option<&Path>) {
    if let Ok(netlink) = svc.netlink().await {
        for l in &made.links {
            let _ = netlink.remove_endpoint(l).await;
        }
    }
    release_ips(svc, &made.ips);
    if let Some(ns) = netns {
        let _ = berth_net::netns_remove(ns);
    }
}

fn release_ips(svc: &NetworkService, ips: &[(String, Ipv4Addr)]) {
    let mut nets = svc.nets.write().unwrap_or_else(|p| p.into_inner());
    for (net_id, ip) in ips {
        if let Some(pool) = nets.get_mut(net_id).and_then(|n| n.pool.as_mut()) {
            pool.release(*ip);
        }
    }
}

/// Allocates an address and makes the veth for one endpoint inside `netns`.
async fn make_endpoint(
    svc: &NetworkService,
    netns: &Path,
    ep: &mut EndpointState,
    ifname: String,
    default_route: bool,
    made: &mut Made,
) -> Result<(), EngineError> {
    let (net, ip, subnet) = {
        let mut nets = svc.nets.write().unwrap_or_else(|p| p.into_inner());
        let key = if nets.contains_key(&ep.network_id) {
            ep.network_id.clone()
        } else {
            nets.values()
                .find(|n| n.rec.name == ep.network_name)
                .map(|n| n.rec.id.clone())
                .ok_or_else(|| {
                    EngineError::Other(
                        ErrorKind::NotFound,
                        format!("network {} not found", ep.network_name),
                    )
                })?
        };
        let n = nets.get_mut(&key).expect("looked up above");
        let subnet = n
            .subnet()
            .ok_or_else(|| internal(format!("network {} has no subnet", n.rec.name)))?;
        let name = n.rec.name.clone();
        let pool = n
            .pool
            .as_mut()
            .ok_or_else(|| internal(format!("network {name} is not usable: its bridge is down")))?;
        let ip = match ep.ipv4_requested.as_deref() {
            Some(s) => {
                let ip: Ipv4Addr = s
                    .parse()
                    .map_err(|_| invalid(format!("invalid IPv4 address: {s}")))?;
                pool.reserve(ip).map_err(|e| {
                    EngineError::Other(ErrorKind::Forbidden, format!("Address already in use: {e}"))
                })?;
                ip
            }
            None => pool.allocate().ok_or_else(|| {
                EngineError::Other(
                    ErrorKind::Forbidden,
                    format!(
                        "no available IPv4 addresses on this network's address pools: {name} ({})",
                        n.rec.id
                    ),
                )
            })?,
        };
        (n.rec.clone(), ip, subnet)
    };
    made.ips.push((net.id.clone(), ip));
    let mac = ep
        .mac_requested
        .as_deref()
        .and_then(berth_net::parse_mac)
        .unwrap_or_else(|| berth_net::mac_for_ip(ip));
    let gateway: Option<Ipv4Addr> = net.gateway.parse().ok();
    let host_ifname = berth_net::host_veth_name();
    let spec = EndpointSpec {
        bridge: net.bridge.clone(),
        host_ifname: host_ifname.clone(),
        netns: netns.to_path_buf(),
        container_ifname: ifname,
        address: Ipv4Net::new(ip, subnet.prefix_len()).map_err(|e| internal(e.to_string()))?,
        gateway: gateway.filter(|_| default_route && !net.internal),
        mac,
        mtu: net
            .options
            .get(super::OPT_MTU)
            .and_then(|m| m.parse().ok())
            .or(svc.config.mtu),
    };
    svc.netlink()
        .await?
        .create_endpoint(&spec)
        .await
        .map_err(net_error)?;
    made.links.push(host_ifname.clone());
    ep.network_id = net.id.clone();
    ep.network_name = net.name.clone();
    ep.endpoint_id = hex::encode(rand::random::<[u8; 32]>());
    ep.ip = ip.to_string();
    ep.prefix_len = subnet.prefix_len();
    ep.gateway = if net.internal {
        String::new()
    } else {
        net.gateway.clone()
    };
    ep.mac = berth_net::format_mac(&mac);
    ep.host_ifname = host_ifname;
    Ok(())
}

fn proto_of(p: &str) -> Result<Proto, String> {
    match p {
        "tcp" => Ok(Proto::Tcp),
        "udp" => Ok(Proto::Udp),
        other => Err(format!("{other} ports are not supported")),
    }
}

fn reserve(req: &PortRequest) -> Result<(u16, berth_net::PortReservation), String> {
    let proto = proto_of(&req.proto)?;
    match req.host_ports {
        (0, 0) => berth_net::reserve_free_port(proto, req.host_ip).map_err(|e| e.to_string()),
        (a, b) => {
            let mut last = String::new();
            for port in a..=b {
                match berth_net::reserve_port(proto, req.host_ip, port) {
                    Ok(r) => return Ok((port, r)),
                    Err(e) => last = e.to_string(),
                }
            }
            Err(last)
        }
    }
}

/// Opens 127.0.0.11:53 (UDP and TCP) inside the sandbox and serves it from the daemon.
fn start_dns(engine: &Arc<Engine>, netns: &Path, id: &str) -> Result<(), EngineError> {
    let svc = &engine.networks;
    if lock(&svc.runtime).dns.contains_key(id) {
        return Ok(());
    }
    let sockets = berth_net::netns_run(netns, || -> std::io::Result<_> {
        let addr = SocketAddr::from(([127, 0, 0, 11], 53));
        let udp = std::net::UdpSocket::bind(addr)?;
        udp.set_nonblocking(true)?;
        let tcp = std::net::TcpListener::bind(addr)?;
        tcp.set_nonblocking(true)?;
        Ok((udp, tcp))
    })
    .map_err(net_error)?
    .map_err(|e| internal(format!("embedded DNS: {e}")))?;
    // `--dns` on a user network: the embedded server forwards this container's queries
    // there instead of to the daemon's upstreams (Docker's ExtDNS per sandbox).
    let own: Vec<SocketAddr> = engine
        .containers
        .get(id)
        .map(|c| lock(&c.record).host_config.dns.clone().unwrap_or_default())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .collect();
    let upstreams = if own.is_empty() {
        svc.upstreams.clone()
    } else {
        Arc::new(berth_dns::Upstreams::new(own).with_timeout(svc.upstreams.timeout()))
    };
    let server = berth_dns::DnsServer::start(
        id.to_owned(),
        sockets.0,
        sockets.1,
        Arc::new(EngineResolver(Arc::downgrade(engine))),
        upstreams,
    )
    .map_err(|e| internal(format!("embedded DNS: {e}")))?;
    lock(&svc.runtime).dns.insert(id.to_owned(), server);
    Ok(())
}

fn on_user_network(svc: &NetworkService, endpoints: &[EndpointState]) -> bool {
    let nets = svc.nets.read().unwrap_or_else(|p| p.into_inner());
    endpoints.iter().filter(|e| e.is_live()).any(|e| {
        nets.get(&e.network_id)
            .is_some_and(|n| !n.rec.is_default_bridge())
    })
}

/// `--link name:alias` lines for /etc/hosts on the default bridge.
fn link_lines(engine: &Engine, hc: &HostConfig) -> Vec<String> {
    let mut out = Vec::new();
    for link in hc.links.iter().flatten() {
        let (target, alias) = link.split_once(':').unwrap_or((link, link));
        let target = target.trim_start_matches('/');
        let alias = alias.rsplit('/').next().unwrap_or(alias);
        let Ok(other) = engine.containers.get(target) else {
            continue;
        };
        let r = other.snapshot();
        let Some(ip) = r
            .network
            .endpoints
            .iter()
            .find(|e| e.is_live())
            .map(|e| e.ip.clone())
        else {
            continue;
        };
        let mut names = vec![alias.to_owned(), r.id[..12].to_owned()];
        if r.name != alias {
            names.push(r.name.clone());
        }
        out.push(format!("{ip}\t{}", names.join(" ")));
    }
    out
}

/// Builds the sandbox at container start (the container's op lock is held). Nothing is
/// left behind when it fails.
pub async fn attach(
    engine: &Arc<Engine>,
    c: &Container,
) -> Result<Option<SandboxInfo>, EngineError> {
    let svc = &engine.networks;
    let rec = c.snapshot();
    let mode = rec.host_config.network_mode.clone().unwrap_or_default();
    if !uses_sandbox(&mode) {
        return Ok(None);
    }
    let mut endpoints = rec.network.endpoints.clone();
    if endpoints.is_empty() {
        endpoints = svc.plan_endpoints(&rec.host_config, None)?;
    }
    let requests = ports::requests(&rec.config, &rec.host_config).map_err(invalid)?;
    if let Some(l) = rec.host_config.links.iter().flatten().find_map(|l| {
        let target = l.split(':').next().unwrap_or(l).trim_start_matches('/');
        engine
            .containers
            .get(target)
            .err()
            .map(|_| target.to_owned())
    }) {
        return Err(invalid(format!("could not get container for {l}")));
    }
    let _ops = svc.ops.lock().await;
    let netns = svc.netns_dir.join(&rec.id[..12]);
    let _ = berth_net::netns_remove(&netns);
    // A remapped container's namespace belongs to the user namespace it will run in (see
    // berth-net's `netns_create_in_userns`); the container joins both.
    match crate::userns::plan_for(engine, c).path() {
        Some(userns) => berth_net::netns_create_in_userns(&netns, userns),
        None => berth_net::netns_create(&netns),
    }
    .map_err(net_error)?;
    let mut made = Made::default();
    let mut reservations = Vec::new();
    let mut published = Vec::new();
    let built: Result<(), EngineError> =
        async {
            for (i, ep) in endpoints.iter_mut().enumerate() {
                make_endpoint(svc, &netns, ep, format!("eth{i}"), i == 0, &mut made).await?;
            }
            for req in &requests {
                let (port, r) =
                    reserve(req).map_err(|e| {
                        internal(format!(
                    "driver failed programming external connectivity on endpoint {} ({}): {e}",
                    rec.name,
                    endpoints.first().map(|e| e.endpoint_id.as_str()).unwrap_or("")
                ))
                    })?;
                reservations.push(r);
                published.push(PublishedPort {
                    proto: req.proto.clone(),
                    container_port: req.container_port,
                    host_ip: req.host_ip.map(|i| i.to_string()).unwrap_or_default(),
                    host_port: port,
                });
            }
            Ok(())
        }
        .await;
    if let Err(e) = built {
        drop(reservations);
        undo(svc, made, Some(&netns)).await;
        return Err(e);
    }
    let sandbox_key = netns.display().to_string();
    // Replaceable: a daemon crash cannot tear it, and after a host crash the namespace
    // and veths it names are gone anyway; the start's own record write follows.
    c.update_record_as(Durability::Replaceable, |r| {
        r.network.sandbox_key = sandbox_key.clone();
        r.network.endpoints = endpoints.clone();
        r.network.ports = published.clone();
    })?;
    lock(&svc.runtime)
        .reservations
        .insert(rec.id.clone(), reservations);
    let finish: Result<bool, EngineError> = (|| {
        svc.apply_firewall(engine)?;
        let embedded = on_user_network(svc, &endpoints);
        if embedded {
            start_dns(engine, &netns, &rec.id)?;
        }
        Ok(embedded)
    })();
    let embedded_dns = match finish {
        Ok(e) => e,
        Err(e) => {
            drop(_ops);
            release(engine, c).await;
            return Err(e);
        }
    };
    for ep in &endpoints {
        if let Ok(net) = svc.get(&ep.network_id) {
            svc.publish(engine, "connect", &net, Some(&rec.id));
        }
    }
    Ok(Some(SandboxInfo {
        netns,
        own_ip: endpoints.first().map(|e| e.ip.clone()),
        hosts_lines: link_lines(engine, &rec.host_config),
        embedded_dns,
    }))
}

/// Undoes the sandbox: DNS server, port reservations, veths, addresses, the namespace and
/// the rules. Idempotent; errors are logged (the container is gone either way).
pub async fn release(engine: &Arc<Engine>, c: &Container) {
    let svc = &engine.networks;
    {
        let mut rt = lock(&svc.runtime);
        rt.dns.remove(&c.id);
        rt.reservations.remove(&c.id);
    }
    let rec = c.snapshot();
    let live: Vec<EndpointState> = rec
        .network
        .endpoints
        .iter()
        .filter(|e| e.is_live())
        .cloned()
        .collect();
    if rec.network.sandbox_key.is_empty() && live.is_empty() {
        return;
    }
    let _ops = svc.ops.lock().await;
    // Deleting a veth waits for an RCU grace period or two (~10-20 ms) inside the kernel.
    // When nothing else holds the namespace, unmounting it is enough: the kernel then
    // destroys it, veth pairs included, on its own workqueue, off the exit's path. A
    // namespace that a `--network container:` joiner still uses would outlive the
    // unmount with our address in it, so its veths are deleted here, as Docker does.
    let namespace_dies = !rec.network.sandbox_key.is_empty() && !netns_has_joiners(engine, c);
    if namespace_dies {
        let names: Vec<String> = live
            .iter()
            .map(|e| e.host_ifname.clone())
            .filter(|n| !n.is_empty())
            .collect();
        if !names.is_empty() {
            lock(&svc.runtime).dying_links.insert(c.id.clone(), names);
        }
    } else if let Ok(netlink) = svc.netlink().await {
        for ep in &live {
            if let Err(e) = netlink.remove_endpoint(&ep.host_ifname).await {
                tracing::warn!(container = %c.id, link = %ep.host_ifname, error = %e, "removing a veth");
            }
        }
    }
    let ips: Vec<(String, Ipv4Addr)> = live
        .iter()
        .filter_map(|e| Some((e.network_id.clone(), e.ip.parse().ok()?)))
        .collect();
    release_ips(svc, &ips);
    if !rec.network.sandbox_key.is_empty() {
        if let Err(e) = berth_net::netns_remove(Path::new(&rec.network.sandbox_key)) {
            tracing::warn!(container = %c.id, error = %e, "removing the network namespace");
        }
    }
    // Replaceable: the exit or the removal that follows writes the record durably, and a
    // host crash takes every sandbox with it anyway.
    let _ = c.update_record_as(Durability::Replaceable, |r| {
        r.network.sandbox_key.clear();
        r.network.ports.clear();
        for ep in &mut r.network.endpoints {
            clear_live(ep);
        }
    });
    if let Err(e) = svc.apply_firewall(engine) {
        tracing::warn!(error = %e, "rewriting nftables rules");
    }
    for ep in &live {
        if let Ok(net) = svc.get(&ep.network_id) {
            svc.publish(engine, "disconnect", &net, Some(&c.id));
        }
    }
}

/// Whether a running container shares `c`'s network namespace (`--network container:`).
/// Runs at every exit, so records are read in place, not cloned.
fn netns_has_joiners(engine: &Engine, c: &Container) -> bool {
    engine.containers.all().iter().any(|other| {
        if other.id == c.id {
            return false;
        }
        let target = {
            let r = lock(&other.record);
            match r.host_config.network_mode.as_deref() {
                Some(m) if r.state.running() => m.strip_prefix("container:").map(str::to_owned),
                _ => None,
            }
        };
        target.is_some_and(|t| {
            engine
                .containers
                .get(&t)
                .is_ok_and(|donor| donor.id == c.id)
        })
    })
}

/// Waits (briefly) until the veths of `id`'s released sandbox are gone, so that after
/// `rm` no link of the container is left on the host; the kernel deletes them within
/// milliseconds of the namespace's release.
pub async fn settle(engine: &Engine, id: &str) {
    let svc = &engine.networks;
    let Some(names) = lock(&svc.runtime).dying_links.remove(id) else {
        return;
    };
    let Ok(netlink) = svc.netlink().await else {
        return;
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
    for name in names {
        loop {
            match netlink.link(&name).await {
                Ok(Some(_)) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                }
                Ok(Some(_)) => {
                    // Still there: something else holds the namespace; delete it now.
                    if let Err(e) = netlink.remove_endpoint(&name).await {
                        tracing::warn!(container = %id, link = %name, error = %e, "removing a veth");
                    }
                    break;
                }
                _ => break,
            }
        }
    }
}

/// Forgets the veths `settle` would wait for (an AutoRemove container: its removal does
/// not wait for the kernel).
pub(crate) fn forget_dying(engine: &Engine, id: &str) {
    lock(&engine.networks.runtime).dying_links.remove(id);
}

fn clear_live(ep: &mut EndpointState) {
    ep.endpoint_id.clear();
    ep.ip.clear();
    ep.prefix_len = 0;
    ep.gateway.clear();
    ep.mac.clear();
    ep.host_ifname.clear();
}

/// After a daemon restart, for a container that kept running: hold its host ports again
/// and serve its DNS again (addresses were reserved by `init`).
pub async fn reattach(engine: &Arc<Engine>, c: &Container) {
    let svc = &engine.networks;
    let rec = c.snapshot();
    if rec.network.sandbox_key.is_empty() {
        return;
    }
    let _ops = svc.ops.lock().await;
    let mut reservations = Vec::new();
    for p in &rec.network.ports {
        let Ok(proto) = proto_of(&p.proto) else {
            continue;
        };
        match berth_net::reserve_port(proto, p.host_ip.parse().ok(), p.host_port) {
            Ok(r) => reservations.push(r),
            Err(e) => {
                tracing::warn!(container = %c.id, port = p.host_port, error = %e, "re-reserving a published port")
            }
        }
    }
    lock(&svc.runtime)
        .reservations
        .insert(rec.id.clone(), reservations);
    if on_user_network(svc, &rec.network.endpoints) {
        let netns = PathBuf::from(&rec.network.sandbox_key);
        let netns = if netns.exists() {
            netns
        } else {
            PathBuf::from(format!("/proc/{}/ns/net", rec.state.pid))
        };
        if let Err(e) = start_dns(engine, &netns, &rec.id) {
            tracing::warn!(container = %c.id, error = %e, "restarting the embedded DNS");
        }
    }
}

/// `POST /networks/{id}/connect`.
pub async fn connect(
    engine: &Arc<Engine>,
    network: &str,
    container: &str,
    settings: EndpointSettings,
) -> Result<(), EngineError> {
    let svc = &engine.networks;
    let net = svc.get(network)?;
    let c = engine.containers.get(container)?;
    let _op = c.op.lock().await;
    let rec = c.snapshot();
    let mode = rec.host_config.network_mode.clone().unwrap_or_default();
    if mode == "host" || !net.is_bridge() {
        return Err(forbidden(
            "container cannot be disconnected from host network or connected to host network",
        ));
    }
    if !uses_sandbox(&mode) {
        return Err(forbidden("container sharing network namespace with another container or host cannot be connected to any other network"));
    }
    if rec.network.endpoint(&net.id).is_some() {
        return Err(forbidden(format!(
            "endpoint with name {} already exists in network {}",
            rec.name, net.name
        )));
    }
    let mut ep = requested_endpoint(&net, &settings)?;
    if !rec.network.sandbox_key.is_empty() {
        let _ops = svc.ops.lock().await;
        let netns = PathBuf::from(&rec.network.sandbox_key);
        let index = rec.network.endpoints.len();
        let mut made = Made::default();
        let first = !rec.network.endpoints.iter().any(|e| e.is_live());
        if let Err(e) = make_endpoint(
            svc,
            &netns,
            &mut ep,
            format!("eth{index}"),
            first,
            &mut made,
        )
        .await
        {
            undo(svc, made, None).await;
            return Err(e);
        }
        c.update_record(|r| r.network.endpoints.push(ep.clone()))?;
        svc.apply_firewall(engine)?;
        let all = c.snapshot().network.endpoints;
        if on_user_network(svc, &all) {
            start_dns(engine, &netns, &rec.id)?;
        }
    } else {
        c.update_record(|r| r.network.endpoints.push(ep.clone()))?;
    }
    svc.publish(engine, "connect", &net, Some(&rec.id));
    Ok(())
}

/// `POST /networks/{id}/disconnect`.
pub async fn disconnect(
    engine: &Arc<Engine>,
    network: &str,
    container: &str,
    _force: bool,
) -> Result<(), EngineError> {
    let svc = &engine.networks;
    let net = svc.get(network)?;
    let c = engine.containers.get(container)?;
    let _op = c.op.lock().await;
    let rec = c.snapshot();
    if rec.host_config.network_mode.as_deref() == Some("host") || net.driver == "host" {
        return Err(forbidden(
            "container cannot be disconnected from host network or connected to host network",
        ));
    }
    let Some(ep) = rec.network.endpoint(&net.id).cloned() else {
        return Err(forbidden(format!(
            "container {} is not connected to network {}",
            rec.id, net.name
        )));
    };
    if ep.is_live() {
        let _ops = svc.ops.lock().await;
        svc.netlink()
            .await?
            .remove_endpoint(&ep.host_ifname)
            .await
            .map_err(net_error)?;
        if let Ok(ip) = ep.ip.parse() {
            release_ips(svc, &[(net.id.clone(), ip)]);
        }
    }
    c.update_record(|r| r.network.endpoints.retain(|e| e.network_id != net.id))?;
    if ep.is_live() {
        let remaining = c.snapshot().network.endpoints;
        if !on_user_network(svc, &remaining) {
            lock(&svc.runtime).dns.remove(&rec.id);
        }
        svc.apply_firewall(engine)?;
    }
    svc.publish(engine, "disconnect", &net, Some(&rec.id));
    Ok(())
}
