//! Name resolution for the embedded DNS: what a container on user-defined networks may see
//! (names, aliases and short IDs of the containers on the same networks).

use std::net::Ipv4Addr;
use std::sync::Weak;

use crate::containers::lock;
use crate::containers::record::ContainerRecord;
use crate::Engine;

pub(super) struct EngineResolver(pub Weak<Engine>);

/// The asker's live endpoints on user-defined networks: (network id, endpoint links).
fn asker_networks(engine: &Engine, asker: &str) -> Vec<(String, Vec<String>, bool)> {
    let Ok(c) = engine.containers.get(asker) else {
        return Vec::new();
    };
    let rec = c.snapshot();
    let nets = engine
        .networks
        .nets
        .read()
        .unwrap_or_else(|p| p.into_inner());
    rec.network
        .endpoints
        .iter()
        .filter(|e| e.is_live())
        .filter_map(|e| {
            let n = nets.get(&e.network_id)?;
            (!n.rec.is_default_bridge())
                .then(|| (e.network_id.clone(), e.links.clone(), n.rec.internal))
        })
        .collect()
}

fn names_of(rec: &ContainerRecord, network_id: &str) -> Vec<String> {
    let mut names = vec![rec.name.clone(), rec.id[..12.min(rec.id.len())].to_owned()];
    if let Some(ep) = rec.network.endpoint(network_id) {
        names.extend(ep.aliases.iter().cloned());
    }
    names
}

fn network_name(engine: &Engine, id: &str) -> String {
    engine
        .networks
        .nets
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .get(id)
        .map(|n| n.rec.name.clone())
        .unwrap_or_default()
}

impl berth_dns::Resolver for EngineResolver {
    fn lookup_ipv4(&self, asker: &str, name: &str) -> Option<Vec<Ipv4Addr>> {
        let engine = self.0.upgrade()?;
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let networks = asker_networks(&engine, asker);
        if networks.is_empty() {
            return None;
        }
        let all = engine.containers.all();
        let mut found = Vec::new();
        for (net_id, links, _) in &networks {
            let net_name = network_name(&engine, net_id).to_ascii_lowercase();
            // `--link target:alias` on a user network is a DNS alias seen by the asker only.
            let mut wanted = vec![name.clone()];
            if let Some(suffix) = name.strip_suffix(&format!(".{net_name}")) {
                wanted.push(suffix.to_owned());
            }
            for l in links {
                let (target, alias) = l.split_once(':').unwrap_or((l.as_str(), l.as_str()));
                if alias.trim_start_matches('/').eq_ignore_ascii_case(&name) {
                    wanted.push(target.trim_start_matches('/').to_ascii_lowercase());
                }
            }
            for c in &all {
                // Read in place: a query must not clone every record.
                let rec = lock(&c.record);
                let Some(ep) = rec.network.endpoint(net_id).filter(|e| e.is_live()) else {
                    continue;
                };
                let hit = names_of(&rec, net_id)
                    .iter()
                    .any(|n| wanted.iter().any(|w| n.eq_ignore_ascii_case(w)));
                if hit {
                    if let Ok(ip) = ep.ip.parse::<Ipv4Addr>() {
                        if !found.contains(&ip) {
                            found.push(ip);
                        }
                    }
                }
            }
        }
        (!found.is_empty()).then_some(found)
    }

    fn lookup_ptr(&self, asker: &str, ip: Ipv4Addr) -> Option<String> {
        let engine = self.0.upgrade()?;
        let wanted = ip.to_string();
        for (net_id, _, _) in asker_networks(&engine, asker) {
            for c in engine.containers.all() {
                let rec = lock(&c.record);
                if rec
                    .network
                    .endpoint(&net_id)
                    .is_some_and(|e| e.is_live() && e.ip == wanted)
                {
                    return Some(format!("{}.{}", rec.name, network_name(&engine, &net_id)));
                }
            }
        }
        None
    }

    fn may_forward(&self, asker: &str) -> bool {
        let Some(engine) = self.0.upgrade() else {
            return false;
        };
        asker_networks(&engine, asker)
            .iter()
            .any(|(_, _, internal)| !internal)
    }
}
