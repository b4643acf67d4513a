//! Networks: the records (`bridge`, `host`, `none` and user-defined bridges), address
//! allocation, and the per-container sandbox (network namespace, veths, published ports,
//! embedded DNS) made at start and undone at exit.
//!
//! Endpoints live in the container records (the one source of truth, persisted with the
//! container); this service keeps the network records, the address pools rebuilt from those
//! endpoints on daemon start, the port reservations and the DNS servers. The kernel side
//! (netlink, nftables, namespaces) is `berth-net`; the DNS protocol is `berth-dns`.

mod dns;
mod firewall;
pub mod ports;
pub mod record;
mod sandbox;

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use berth_api::models::NetworkCreateRequest;
use berth_core::ErrorKind;
use berth_net::{overlaps, AddressPool, Ipv4Net};

pub use record::NetworkRecord;
pub(crate) use sandbox::forget_dying;
pub use sandbox::{attach, connect, disconnect, reattach, release, settle, SandboxInfo};

use crate::containers::lock;
use crate::error::EngineError;
use crate::Engine;

/// The daemon's networking options (dockerd's flags of the same names).
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// `--bridge`: the default bridge's device; `none` disables the default network.
    pub bridge: String,
    /// `--bip`: the default bridge's gateway address and prefix, e.g. `172.17.0.1/16`.
    pub bip: Option<String>,
    /// `--default-address-pool base=…,size=…`: where user networks' subnets come from.
    pub address_pools: Vec<(String, u8)>,
    /// `--dns`: upstream resolvers for the embedded DNS and default-bridge containers.
    pub dns: Vec<String>,
    /// `--icc`, `--ip-masq`, `--iptables` (our nftables table), `--mtu`.
    pub icc: bool,
    pub ip_masq: bool,
    pub firewall: bool,
    pub mtu: Option<u32>,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        Self {
            bridge: DEFAULT_BRIDGE.into(),
            bip: None,
            address_pools: Vec::new(),
            dns: Vec::new(),
            icc: true,
            ip_masq: true,
            firewall: true,
            mtu: None,
        }
    }
}

/// Ours, so that a Docker on the same host keeps its docker0.
pub const DEFAULT_BRIDGE: &str = "berth0";
pub const OPT_BRIDGE_NAME: &str = "com.docker.network.bridge.name";
pub const OPT_ICC: &str = "com.docker.network.bridge.enable_icc";
pub const OPT_MASQ: &str = "com.docker.network.bridge.enable_ip_masquerade";
pub const OPT_MTU: &str = "com.docker.network.driver.mtu";

pub(crate) struct Net {
    pub rec: NetworkRecord,
    pub pool: Option<AddressPool>,
}

impl Net {
    pub fn subnet(&self) -> Option<Ipv4Net> {
        self.rec.subnet.parse().ok()
    }
}

#[derive(Default)]
pub(crate) struct Runtime {
    pub reservations: HashMap<String, Vec<berth_net::PortReservation>>,
    pub dns: HashMap<String, berth_dns::DnsServer>,
    /// Host veth names of released sandboxes whose namespace the kernel is still tearing
    /// down (it deletes their veths asynchronously), by container ID: `rm` waits for them.
    pub dying_links: HashMap<String, Vec<String>>,
}

pub struct NetworkService {
    pub(crate) config: NetworkConfig,
    pub(crate) dir: PathBuf,
    pub(crate) netns_dir: PathBuf,
    /// Our nftables table: one per default bridge, so test daemons never share one.
    pub(crate) table: String,
    pub(crate) nets: RwLock<BTreeMap<String, Net>>,
    /// Serialises everything that changes links, pools, ports and rules.
    pub(crate) ops: tokio::sync::Mutex<()>,
    netlink: tokio::sync::OnceCell<berth_net::Netlink>,
    pub(crate) runtime: Mutex<Runtime>,
    pub(crate) upstreams: Arc<berth_dns::Upstreams>,
    warnings: Mutex<Vec<String>>,
    /// The script last written to nftables: a start or exit that changes no port or
    /// network (most of them) skips running `nft` at all.
    applied: Mutex<Option<String>>,
}

fn not_found(name: &str) -> EngineError {
    EngineError::Other(ErrorKind::NotFound, format!("network {name} not found"))
}

pub(crate) fn net_error(e: berth_net::NetError) -> EngineError {
    EngineError::Other(ErrorKind::Internal, e.to_string())
}

fn forbidden(msg: impl Into<String>) -> EngineError {
    EngineError::Other(ErrorKind::Forbidden, msg.into())
}

impl NetworkService {
    pub fn open(data_root: &Path, exec_root: &Path, config: NetworkConfig) -> Self {
        let table = if config.bridge == DEFAULT_BRIDGE || config.bridge == "none" {
            "berth".to_owned()
        } else {
            format!("berth-{}", config.bridge)
        };
        let upstreams = if config.dns.is_empty() {
            berth_dns::Upstreams::from_host_resolv_conf()
        } else {
            berth_dns::Upstreams::new(
                config
                    .dns
                    .iter()
                    .filter_map(|s| s.parse::<std::net::IpAddr>().ok())
                    .map(|ip| std::net::SocketAddr::new(ip, 53))
                    .collect(),
            )
        };
        Self {
            dir: data_root.join("network"),
            netns_dir: exec_root.join("netns"),
            table,
            config,
            nets: RwLock::new(BTreeMap::new()),
            ops: tokio::sync::Mutex::new(()),
            netlink: tokio::sync::OnceCell::new(),
            runtime: Mutex::new(Runtime::default()),
            upstreams: Arc::new(upstreams),
            warnings: Mutex::new(Vec::new()),
            applied: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    /// Things `info` should say, e.g. that the default bridge moved off a taken range.
    pub fn warnings(&self) -> Vec<String> {
        lock(&self.warnings).clone()
    }

    pub(crate) async fn netlink(&self) -> Result<&berth_net::Netlink, EngineError> {
        self.netlink
            .get_or_try_init(|| async { berth_net::Netlink::new().await.map_err(net_error) })
            .await
    }

    /// The address `host-gateway` stands for in `--add-host`: the default bridge's gateway.
    pub fn host_gateway(&self) -> Option<String> {
        self.list()
            .into_iter()
            .find(|r| r.is_default_bridge())
            .map(|r| r.gateway)
            .filter(|g| !g.is_empty())
    }

    /// A copy of every network record.
    pub fn list(&self) -> Vec<NetworkRecord> {
        self.nets
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|n| n.rec.clone())
            .collect()
    }

    /// By full ID, exact name, or unambiguous ID prefix (a name wins), as Docker does.
    pub fn get(&self, name_or_id: &str) -> Result<NetworkRecord, EngineError> {
        let nets = self.nets.read().unwrap_or_else(|p| p.into_inner());
        if name_or_id.is_empty() {
            return Err(not_found(name_or_id));
        }
        if let Some(n) = nets.get(name_or_id) {
            return Ok(n.rec.clone());
        }
        if let Some(n) = nets.values().find(|n| n.rec.name == name_or_id) {
            return Ok(n.rec.clone());
        }
        let mut m = nets.values().filter(|n| n.rec.id.starts_with(name_or_id));
        match (m.next(), m.next()) {
            (Some(n), None) => Ok(n.rec.clone()),
            (Some(_), Some(_)) => Err(EngineError::Other(
                ErrorKind::InvalidParameter,
                format!("network {name_or_id} is ambiguous"),
            )),
            _ => Err(not_found(name_or_id)),
        }
    }

    /// Containers with a live endpoint on the network: (id, name, endpoint).
    pub fn endpoints_of(
        &self,
        engine: &Engine,
        network_id: &str,
    ) -> Vec<(String, String, crate::containers::record::EndpointState)> {
        let mut out = Vec::new();
        for c in engine.containers.all() {
            let rec = c.snapshot();
            if let Some(ep) = rec.network.endpoint(network_id).filter(|e| e.is_live()) {
                out.push((rec.id.clone(), rec.name.clone(), ep.clone()));
            }
        }
        out.sort_by(|a, b| a.1.cmp(&b.1));
        out
    }

    fn publish(&self, engine: &Engine, action: &str, rec: &NetworkRecord, container: Option<&str>) {
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_owned(), rec.name.clone());
        attrs.insert("type".to_owned(), rec.driver.clone());
        if let Some(c) = container {
            attrs.insert("container".to_owned(), c.to_owned());
        }
        engine.events.publish(
            berth_api::events::event_type::NETWORK,
            action,
            rec.id.clone(),
            attrs,
        );
    }

    /// Loads the records, makes the predefined networks and the bridges, rebuilds the
    /// address pools from the containers' live endpoints, and writes our nftables table.
    /// Runs once at daemon start, before containers are restored.
    pub async fn init(&self, engine: &Engine) -> Result<(), EngineError> {
        let _ops = self.ops.lock().await;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| EngineError::io("create directory", &self.dir, e))?;
        let mut records = NetworkRecord::load_all(&self.dir)?;
        for (name, driver) in [("host", "host"), ("none", "null")] {
            if !records.iter().any(|r| r.predefined && r.name == name) {
                let rec = predefined(name, driver);
                rec.save(&self.dir)?;
                records.push(rec);
            }
        }
        let default_bridge = records
            .iter()
            .position(|r| r.is_default_bridge())
            .map(|i| records.remove(i));
        if self.config.bridge != "none" {
            let rec = self.default_bridge_record(default_bridge).await?;
            rec.save(&self.dir)?;
            records.push(rec);
        } else if let Some(old) = default_bridge {
            NetworkRecord::delete(&self.dir, &old.id)?;
        }
        let netlink = self.netlink().await?;
        let mut nets = BTreeMap::new();
        for rec in records {
            let pool = if rec.is_bridge() {
                match self.bridge_up(netlink, &rec).await {
                    Ok(pool) => Some(pool),
                    Err(e) => {
                        tracing::error!(network = %rec.name, error = %e, "cannot bring the network's bridge up");
                        None
                    }
                }
            } else {
                None
            };
            nets.insert(rec.id.clone(), Net { rec, pool });
        }
        // Addresses held by containers that were running when the daemon went away.
        for c in engine.containers.all() {
            let rec = c.snapshot();
            for ep in rec.network.endpoints.iter().filter(|e| e.is_live()) {
                let (Some(net), Ok(ip)) = (nets.get_mut(&ep.network_id), ep.ip.parse()) else {
                    continue;
                };
                if let Some(pool) = net.pool.as_mut() {
                    if let Err(e) = pool.reserve(ip) {
                        tracing::warn!(container = %rec.id, %ip, error = %e, "restoring an address");
                    }
                }
            }
        }
        *self.nets.write().unwrap_or_else(|p| p.into_inner()) = nets;
        self.apply_firewall(engine)
    }

    /// Creates the bridge device if needed and returns the network's address pool. The
    /// pool is built (and so the record validated) before the kernel is touched.
    async fn bridge_up(
        &self,
        netlink: &berth_net::Netlink,
        rec: &NetworkRecord,
    ) -> Result<AddressPool, EngineError> {
        let pool = address_pool(rec)?;
        let gw_net = Ipv4Net::new(pool.gateway(), pool.subnet().prefix_len())
            .map_err(|e| EngineError::InvalidParameter(e.to_string()))?;
        let mtu = rec
            .options
            .get(OPT_MTU)
            .and_then(|m| m.parse().ok())
            .or(self.config.mtu);
        netlink
            .ensure_bridge(&rec.bridge, gw_net, mtu)
            .await
            .map_err(net_error)?;
        Ok(pool)
    }

    /// The default bridge's record: its subnet from `--bip`, else the one it had, else
    /// 172.17.0.0/16 or the first free fallback when the host already routes that one.
    async fn default_bridge_record(
        &self,
        existing: Option<NetworkRecord>,
    ) -> Result<NetworkRecord, EngineError> {
        let mut rec = existing.unwrap_or_else(|| {
            let mut r = predefined("bridge", "bridge");
            r.options = [
                ("com.docker.network.bridge.default_bridge", "true"),
                (OPT_ICC, "true"),
                (OPT_MASQ, "true"),
                ("com.docker.network.bridge.host_binding_ipv4", "0.0.0.0"),
                ("com.docker.network.driver.mtu", "1500"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
            r
        });
        rec.bridge = self.config.bridge.clone();
        rec.options
            .insert(OPT_BRIDGE_NAME.into(), self.config.bridge.clone());
        rec.options
            .insert(OPT_ICC.into(), self.config.icc.to_string());
        rec.options
            .insert(OPT_MASQ.into(), self.config.ip_masq.to_string());
        if let Some(bip) = &self.config.bip {
            let net: Ipv4Net = bip
                .parse()
                .map_err(|_| EngineError::InvalidParameter(format!("invalid --bip {bip}")))?;
            rec.subnet = net.trunc().to_string();
            rec.gateway = net.addr().to_string();
            return Ok(rec);
        }
        if !rec.subnet.is_empty() {
            return Ok(rec);
        }
        // Our own bridge's route is not "the host's" (it exists after a restart).
        let routes = self
            .netlink()
            .await?
            .host_routes_except(&[rec.bridge.as_str()])
            .await
            .map_err(net_error)?;
        let candidates = berth_net::SubnetPools::default_bridge_candidates();
        let chosen = candidates
            .iter()
            .copied()
            .find(|c| !routes.iter().any(|r| overlaps(r, c)))
            .ok_or_else(|| {
                EngineError::Other(
                    ErrorKind::Unavailable,
                    "no free address range for the default bridge; set one with --bip".into(),
                )
            })?;
        if Some(&chosen) != candidates.first() {
            let msg = format!(
                "WARNING: {} is in use on this host; the default bridge network uses {chosen}",
                candidates
                    .first()
                    .map(|c| c.to_string())
                    .unwrap_or_default()
            );
            tracing::warn!("{msg}");
            lock(&self.warnings).push(msg);
        }
        rec.subnet = chosen.to_string();
        rec.gateway = berth_net::default_gateway(chosen).to_string();
        Ok(rec)
    }

    /// `POST /networks/create`.
    pub async fn create(
        &self,
        engine: &Engine,
        req: NetworkCreateRequest,
    ) -> Result<(String, String), EngineError> {
        let name = req.name.trim().to_owned();
        validate_name(&name)?;
        let driver = req
            .driver
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "bridge".into());
        match driver.as_str() {
            "bridge" => {}
            "host" | "null" => {
                return Err(forbidden(format!(
                    "only one instance of \"{driver}\" network is allowed"
                )))
            }
            other => {
                return Err(EngineError::Other(
                    ErrorKind::NotFound,
                    format!("plugin \"{other}\" not found"),
                ))
            }
        }
        let _ops = self.ops.lock().await;
        if self.list().iter().any(|r| r.name == name) {
            return Err(EngineError::Other(
                ErrorKind::Conflict,
                format!("network with name {name} already exists"),
            ));
        }
        let id = hex::encode(rand::random::<[u8; 32]>());
        let ipam = req.ipam.clone().unwrap_or_default();
        let ipam_driver = ipam
            .driver
            .clone()
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "default".into());
        if ipam_driver != "default" {
            return Err(EngineError::Other(
                ErrorKind::NotFound,
                format!("plugin \"{ipam_driver}\" not found"),
            ));
        }
        let v4 = ipam
            .config
            .iter()
            .flatten()
            .find(|c| {
                c.subnet
                    .as_deref()
                    .is_none_or(|s| s.is_empty() || !s.contains(':'))
            })
            .cloned()
            .unwrap_or_default();
        let in_use: Vec<Ipv4Net> = {
            let nets = self.nets.read().unwrap_or_else(|p| p.into_inner());
            nets.values().filter_map(Net::subnet).collect()
        };
        let subnet = match v4.subnet.as_deref().filter(|s| !s.is_empty()) {
            Some(s) => {
                let net: Ipv4Net = s
                    .parse()
                    .map_err(|_| EngineError::InvalidParameter(format!("invalid subnet {s}")))?;
                if net.trunc() != net {
                    return Err(EngineError::InvalidParameter(format!(
                        "invalid subnet {s}: it should be {}",
                        net.trunc()
                    )));
                }
                if in_use.iter().any(|u| overlaps(u, &net)) {
                    return Err(forbidden(
                        "Pool overlaps with other one on this address space",
                    ));
                }
                net
            }
            None => {
                let routes = self
                    .netlink()
                    .await?
                    .host_routes()
                    .await
                    .map_err(net_error)?;
                self.subnet_pools()?
                    .next_subnet(&in_use, &routes)
                    .ok_or_else(|| forbidden("could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network"))?
            }
        };
        let gateway = match v4.gateway.as_deref().filter(|s| !s.is_empty()) {
            Some(g) => g.parse::<Ipv4Addr>().map_err(|_| {
                EngineError::InvalidParameter(format!("invalid gateway address {g}"))
            })?,
            None => berth_net::default_gateway(subnet),
        };
        let options: BTreeMap<String, String> = req
            .options
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let bridge = options
            .get(OPT_BRIDGE_NAME)
            .cloned()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| format!("br-{}", &id[..12]));
        if bridge.len() > 15 {
            return Err(EngineError::InvalidParameter(format!(
                "bridge name {bridge} is too long (15 characters at most)"
            )));
        }
        if self.list().iter().any(|r| r.bridge == bridge) {
            return Err(forbidden(format!(
                "bridge name {bridge} is already used by another network"
            )));
        }
        let rec = NetworkRecord {
            id: id.clone(),
            name: name.clone(),
            driver,
            created: crate::containers::now_rfc3339(),
            internal: req.internal.unwrap_or(false),
            attachable: req.attachable.unwrap_or(false),
            enable_ipv6: req.enable_ipv6.unwrap_or(false),
            predefined: false,
            ipam_driver,
            ipam_options: ipam
                .options
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            subnet: subnet.to_string(),
            gateway: gateway.to_string(),
            ip_range: v4.ip_range.clone().unwrap_or_default(),
            aux_addresses: v4
                .auxiliary_addresses
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect(),
            options,
            labels: req.labels.clone().unwrap_or_default().into_iter().collect(),
            bridge,
        };
        let netlink = self.netlink().await?;
        let pool = self.bridge_up(netlink, &rec).await?;
        if let Err(e) = rec.save(&self.dir) {
            let _ = netlink.delete_link(&rec.bridge).await;
            return Err(e);
        }
        self.nets.write().unwrap_or_else(|p| p.into_inner()).insert(
            id.clone(),
            Net {
                rec: rec.clone(),
                pool: Some(pool),
            },
        );
        self.apply_firewall(engine)?;
        self.publish(engine, "create", &rec, None);
        Ok((id, String::new()))
    }

    fn subnet_pools(&self) -> Result<berth_net::SubnetPools, EngineError> {
        let pools: Vec<(Ipv4Net, u8)> = self
            .config
            .address_pools
            .iter()
            .map(|(base, size)| {
                base.parse().map(|b| (b, *size)).map_err(|_| {
                    EngineError::InvalidParameter(format!("invalid address pool {base}"))
                })
            })
            .collect::<Result<_, _>>()?;
        if pools.is_empty() {
            Ok(berth_net::SubnetPools::default_pools())
        } else {
            berth_net::SubnetPools::new(&pools)
                .map_err(|e| EngineError::InvalidParameter(e.to_string()))
        }
    }

    /// `DELETE /networks/{id}`.
    pub async fn remove(&self, engine: &Engine, name_or_id: &str) -> Result<(), EngineError> {
        let rec = self.get(name_or_id)?;
        if rec.predefined {
            return Err(forbidden(format!(
                "{} is a pre-defined network and cannot be removed",
                rec.name
            )));
        }
        let _ops = self.ops.lock().await;
        if !self.endpoints_of(engine, &rec.id).is_empty() {
            return Err(EngineError::Other(
                ErrorKind::Conflict,
                format!(
                    "error while removing network: network {} id {} has active endpoints",
                    rec.name, rec.id
                ),
            ));
        }
        self.remove_locked(engine, &rec).await
    }

    async fn remove_locked(&self, engine: &Engine, rec: &NetworkRecord) -> Result<(), EngineError> {
        if rec.is_bridge() {
            self.netlink()
                .await?
                .delete_link(&rec.bridge)
                .await
                .map_err(net_error)?;
        }
        NetworkRecord::delete(&self.dir, &rec.id)?;
        self.nets
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&rec.id);
        self.apply_firewall(engine)?;
        self.publish(engine, "destroy", rec, None);
        Ok(())
    }

    /// `POST /networks/prune`: user networks without endpoints that pass `keep`.
    pub async fn prune(
        &self,
        engine: &Engine,
        keep: impl Fn(&NetworkRecord) -> bool,
    ) -> Result<Vec<String>, EngineError> {
        let _ops = self.ops.lock().await;
        let mut deleted = Vec::new();
        for rec in self.list() {
            if rec.predefined || !keep(&rec) || !self.endpoints_of(engine, &rec.id).is_empty() {
                continue;
            }
            match self.remove_locked(engine, &rec).await {
                Ok(()) => deleted.push(rec.name.clone()),
                Err(e) => tracing::warn!(network = %rec.name, error = %e, "prune"),
            }
        }
        deleted.sort();
        Ok(deleted)
    }

    /// Rewrites our nftables table from the networks and every live sandbox's ports.
    pub(crate) fn apply_firewall(&self, engine: &Engine) -> Result<(), EngineError> {
        if !self.config.firewall {
            return Ok(());
        }
        let rs = firewall::ruleset(self, engine);
        let script = rs.render().map_err(net_error)?;
        let mut applied = lock(&self.applied);
        if applied.as_deref() == Some(script.as_str()) {
            return Ok(());
        }
        berth_net::nft_apply(&rs).map_err(net_error)?;
        *applied = Some(script);
        Ok(())
    }

    /// Clean shutdown: our table goes unless containers keep running (live restore), whose
    /// published ports must keep working while the daemon is away.
    pub fn shutdown(&self, engine: &Engine) {
        lock(&self.runtime).dns.clear();
        let any_running = engine
            .containers
            .all()
            .iter()
            .any(|c| !c.snapshot().network.sandbox_key.is_empty());
        if self.config.firewall && !any_running {
            *lock(&self.applied) = None;
            if let Err(e) = berth_net::nft_remove(&self.table) {
                tracing::warn!(error = %e, "removing our nftables table");
            }
        }
    }
}

/// A bridge network's address pool from its record, validated as Docker does (gateway,
/// ip-range and aux addresses inside the subnet).
fn address_pool(rec: &NetworkRecord) -> Result<AddressPool, EngineError> {
    let invalid =
        |what: &str, v: &str| EngineError::InvalidParameter(format!("invalid {what} {v}"));
    let subnet: Ipv4Net = rec
        .subnet
        .parse()
        .map_err(|_| invalid("subnet", &rec.subnet))?;
    let gateway: Ipv4Addr = rec
        .gateway
        .parse()
        .map_err(|_| invalid("gateway", &rec.gateway))?;
    let range = match rec.ip_range.as_str() {
        "" => None,
        r => Some(r.parse::<Ipv4Net>().map_err(|_| invalid("ip-range", r))?),
    };
    let aux: Vec<Ipv4Addr> = rec
        .aux_addresses
        .values()
        .map(|a| a.parse().map_err(|_| invalid("aux address", a)))
        .collect::<Result<_, _>>()?;
    AddressPool::new(subnet, range, gateway, &aux)
        .map_err(|e| EngineError::InvalidParameter(e.to_string()))
}

fn predefined(name: &str, driver: &str) -> NetworkRecord {
    NetworkRecord {
        id: hex::encode(rand::random::<[u8; 32]>()),
        name: name.into(),
        driver: driver.into(),
        created: crate::containers::now_rfc3339(),
        internal: false,
        attachable: false,
        enable_ipv6: false,
        predefined: true,
        ipam_driver: "default".into(),
        ipam_options: BTreeMap::new(),
        subnet: String::new(),
        gateway: String::new(),
        ip_range: String::new(),
        aux_addresses: BTreeMap::new(),
        options: BTreeMap::new(),
        labels: BTreeMap::new(),
        bridge: String::new(),
    }
}

/// Docker's network name rule.
fn validate_name(name: &str) -> Result<(), EngineError> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else if name.is_empty() {
        Err(EngineError::InvalidParameter(
            "network name must not be empty".into(),
        ))
    } else {
        Err(EngineError::InvalidParameter(format!(
            "invalid network name \"{name}\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_dockers_rule() {
        assert!(validate_name("my-net_1.x").is_ok());
        assert!(validate_name("").is_err());
        assert!(validate_name("-x").is_err());
        assert!(validate_name("a/b").is_err());
    }
}
