//! The whole desired nftables state, derived from the network records and the published
//! ports of every live sandbox, so one atomic rewrite always converges (also after a crash).

use std::net::Ipv4Addr;

use berth_net::{NftNetwork, NftPort, NftRuleset, Proto};

use super::{NetworkService, OPT_ICC, OPT_MASQ};
use crate::Engine;

fn flag(opts: &std::collections::BTreeMap<String, String>, key: &str, default: bool) -> bool {
    opts.get(key).map(|v| v == "true").unwrap_or(default)
}

pub(super) fn ruleset(svc: &NetworkService, engine: &Engine) -> NftRuleset {
    let mut networks = Vec::new();
    let mut bridges = std::collections::HashMap::new();
    {
        let nets = svc.nets.read().unwrap_or_else(|p| p.into_inner());
        for n in nets.values().filter(|n| n.rec.is_bridge()) {
            let Some(subnet) = n.subnet() else { continue };
            bridges.insert(n.rec.id.clone(), n.rec.bridge.clone());
            networks.push(NftNetwork {
                bridge: n.rec.bridge.clone(),
                subnet,
                internal: n.rec.internal,
                masquerade: svc.config.ip_masq && flag(&n.rec.options, OPT_MASQ, true),
                icc: flag(&n.rec.options, OPT_ICC, svc.config.icc),
            });
        }
    }
    let mut ports = Vec::new();
    for c in engine.containers.all() {
        let rec = c.snapshot();
        if rec.network.sandbox_key.is_empty() || rec.network.ports.is_empty() {
            continue;
        }
        // Ports go to the first endpoint on a bridge with a way out, as Docker maps them.
        let Some((ip, bridge)) = rec.network.endpoints.iter().find_map(|e| {
            let bridge = bridges.get(&e.network_id)?;
            Some((e.ip.parse::<Ipv4Addr>().ok()?, bridge.clone()))
        }) else {
            continue;
        };
        for p in &rec.network.ports {
            let proto = match p.proto.as_str() {
                "udp" => Proto::Udp,
                "tcp" => Proto::Tcp,
                _ => continue,
            };
            ports.push(NftPort {
                proto,
                host_ip: p.host_ip.parse().ok(),
                host_port: p.host_port,
                container_ip: ip,
                container_port: p.container_port,
                bridge: bridge.clone(),
            });
        }
    }
    // A stable order, so an unchanged state renders the same script (see apply_firewall).
    ports.sort_by_key(|p| {
        (
            p.host_port,
            p.host_ip,
            p.container_ip,
            p.container_port,
            p.proto == Proto::Udp,
        )
    });
    NftRuleset {
        table: svc.table.clone(),
        networks,
        ports,
    }
}
