//! `--network` (plain or `name=…,alias=…,ip=…`) and the single-network flags
//! (`--network-alias`, `--ip`, `--mac-address`, …) → `HostConfig.NetworkMode` and
//! `NetworkingConfig.EndpointsConfig`, as docker/cli's `parseNetworkOpts` builds them.

use serde_json::{json, Map, Value};

use super::opts::ContainerOptions;
use super::values::csv_fields;

/// One `--network` value: a name, or `name=x,alias=y,ip=…` (`opts.NetworkOpt`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetworkAttachment {
    pub target: String,
    pub aliases: Vec<String>,
    pub ipv4: String,
    pub ipv6: String,
    pub links: Vec<String>,
    pub link_local_ips: Vec<String>,
    pub mac_address: String,
    pub driver_opts: Map<String, Value>,
    pub gw_priority: i64,
}

pub fn network(s: &str) -> Result<NetworkAttachment, String> {
    let long_syntax = s.split(',').all(|f| {
        f.split_once('=').is_some_and(|(k, v)| {
            let word = |x: &str| x.chars().any(|c| c.is_alphanumeric() || c == '_');
            word(k) && word(v)
        })
    }) && s.contains('=');
    let mut n = NetworkAttachment::default();
    if !long_syntax {
        n.target = s.to_owned();
        return Ok(n);
    }
    for field in csv_fields(s)? {
        let lower = field.to_lowercase();
        let (key, val) = lower
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("invalid field {field}"))?;
        let (key, val) = (key.trim(), val.trim());
        match key {
            "name" => n.target = val.to_owned(),
            "alias" => n.aliases.push(val.to_owned()),
            "ip" => n.ipv4 = val.to_owned(),
            "ip6" => n.ipv6 = val.to_owned(),
            "mac-address" => n.mac_address = val.to_owned(),
            "link-local-ip" => n.link_local_ips.push(val.to_owned()),
            "driver-opt" => {
                let (k, v) = val
                    .split_once('=')
                    .filter(|(k, _)| !k.is_empty())
                    .ok_or("invalid key value pair format in driver options")?;
                n.driver_opts.insert(k.trim().into(), json!(v.trim()));
            }
            "gw-priority" => {
                n.gw_priority = val
                    .parse()
                    .map_err(|_| format!("invalid gw-priority ({val}): invalid syntax"))?
            }
            _ => return Err(format!("invalid field key {key}")),
        }
    }
    if n.target.is_empty() {
        return Err("network name/id is not specified".into());
    }
    Ok(n)
}

/// `net.ParseMAC` for the 6-byte forms docker accepts.
pub fn validate_mac(mac: &str) -> Result<(), ()> {
    let mac = mac.trim();
    let sep = if mac.contains(':') { ':' } else { '-' };
    let parts: Vec<&str> = mac.split(sep).collect();
    let ok = [6, 8, 20].contains(&parts.len())
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(())
    } else {
        Err(())
    }
}

fn is_user_defined(mode: &str) -> bool {
    !["default", "bridge", "host", "none"].contains(&mode) && !mode.starts_with("container:")
}

/// `NetworkMode.NetworkName()`.
pub fn network_name(mode: &str) -> String {
    if mode.starts_with("container:") {
        "container".into()
    } else {
        mode.into()
    }
}

fn endpoint(n: &NetworkAttachment) -> Result<Value, String> {
    if n.target.trim().is_empty() {
        return Err("no name set for network".into());
    }
    if !is_user_defined(&n.target) {
        if !n.aliases.is_empty() {
            return Err(
                "network-scoped aliases are only supported for user-defined networks".into(),
            );
        }
        if !n.links.is_empty() {
            return Err("links are only supported for user-defined networks".into());
        }
    }
    let ipam = if !n.ipv4.is_empty() || !n.ipv6.is_empty() || !n.link_local_ips.is_empty() {
        let mut m = Map::new();
        if !n.ipv4.is_empty() {
            m.insert("IPv4Address".into(), json!(n.ipv4));
        }
        if !n.ipv6.is_empty() {
            m.insert("IPv6Address".into(), json!(n.ipv6));
        }
        if !n.link_local_ips.is_empty() {
            m.insert("LinkLocalIPs".into(), json!(n.link_local_ips));
        }
        Value::Object(m)
    } else {
        Value::Null
    };
    if !n.mac_address.is_empty() && validate_mac(&n.mac_address).is_err() {
        return Err(format!("{} is not a valid mac address", n.mac_address));
    }
    Ok(json!({
        "IPAMConfig": ipam,
        "Links": list_or_null(&n.links),
        "Aliases": list_or_null(&n.aliases),
        "MacAddress": n.mac_address,
        "DriverOpts": if n.driver_opts.is_empty() { Value::Null } else { Value::Object(n.driver_opts.clone()) },
        "GwPriority": n.gw_priority,
        "NetworkID": "",
        "EndpointID": "",
        "Gateway": "",
        "IPAddress": "",
        "IPPrefixLen": 0,
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "DNSNames": null,
    }))
}

/// Applies the old single-network flags (`--network-alias`, `--ip`, …) to `n`.
fn apply_legacy_flags(n: &mut NetworkAttachment, o: &ContainerOptions) -> Result<(), String> {
    let conflict = |what: &str| Err(format!("conflicting options: cannot specify both {what}"));
    if !n.aliases.is_empty() && !o.network_alias.is_empty() {
        return conflict("--network-alias and per-network alias");
    }
    if !n.links.is_empty() && !o.links.is_empty() {
        return conflict("--link and per-network links");
    }
    if !n.ipv4.is_empty() && o.ip.is_some() {
        return conflict("--ip and per-network IPv4 address");
    }
    if !n.ipv6.is_empty() && o.ip6.is_some() {
        return conflict("--ip6 and per-network IPv6 address");
    }
    if !n.mac_address.is_empty() && o.mac_address.is_some() {
        return conflict("--mac-address and per-network MAC address");
    }
    if !n.link_local_ips.is_empty() && !o.link_local_ip.is_empty() {
        return conflict("--link-local-ip and per-network link-local IP addresses");
    }
    if !o.network_alias.is_empty() {
        n.aliases = o.network_alias.clone();
    }
    if is_user_defined(&n.target) && !o.links.is_empty() {
        n.links = o.links.clone();
    }
    if let Some(ip) = o.ip.as_deref().filter(|i| !i.is_empty()) {
        n.ipv4 = ip.to_owned();
    }
    if let Some(ip) = o.ip6.as_deref().filter(|i| !i.is_empty()) {
        n.ipv6 = ip.to_owned();
    }
    if let Some(mac) = o.mac_address.as_deref().filter(|m| !m.is_empty()) {
        n.mac_address = mac.to_owned();
    }
    if !o.link_local_ip.is_empty() {
        n.link_local_ips = o.link_local_ip.clone();
    }
    Ok(())
}

/// docker/cli's `parseNetworkOpts`.
pub fn network_endpoints(o: &ContainerOptions) -> Result<Map<String, Value>, String> {
    let mut endpoints = Map::new();
    if o.network.is_empty() {
        let mut n = NetworkAttachment {
            target: "default".into(),
            ..Default::default()
        };
        apply_legacy_flags(&mut n, o)?;
        endpoints.insert("default".into(), endpoint(&n)?);
        return Ok(endpoints);
    }
    let (mut user_defined, mut builtin) = (false, false);
    for (i, n) in o.network.iter().enumerate() {
        if is_user_defined(&n.target) {
            user_defined = true;
        } else {
            builtin = true;
        }
        let mut n = n.clone();
        if i == 0 {
            apply_legacy_flags(&mut n, o)?;
        }
        let ep = endpoint(&n)?;
        if endpoints.contains_key(&n.target) {
            return Err(format!(
                "network {:?} is specified multiple times",
                n.target
            ));
        }
        // A single network without options sends no endpoint (older daemons' way).
        if i == 0
            && o.network.len() == 1
            && ep
                == endpoint(&NetworkAttachment {
                    target: n.target.clone(),
                    ..Default::default()
                })?
        {
            continue;
        }
        endpoints.insert(n.target.clone(), ep);
    }
    if user_defined && builtin {
        return Err("conflicting options: cannot attach both user-defined and non-user-defined network-modes".into());
    }
    Ok(endpoints)
}

/// Go's `nil` for an empty list.
fn list_or_null(items: &[String]) -> Value {
    if items.is_empty() {
        Value::Null
    } else {
        json!(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_values() {
        assert_eq!(network("host").unwrap().target, "host");
        let n = network("name=net1,alias=web,ip=10.0.0.5,driver-opt=k=v").unwrap();
        assert_eq!(
            (n.target.as_str(), n.aliases.as_slice(), n.ipv4.as_str()),
            ("net1", ["web".to_owned()].as_slice(), "10.0.0.5")
        );
        assert_eq!(n.driver_opts["k"], "v");
        assert_eq!(
            network("alias=x,ip=1.2.3.4").unwrap_err(),
            "network name/id is not specified"
        );
        assert_eq!(
            network("name=n,bogus=1").unwrap_err(),
            "invalid field key bogus"
        );
    }

    #[test]
    fn endpoints_for_builtin_and_user_networks() {
        let builtin = NetworkAttachment {
            target: "bridge".into(),
            aliases: vec!["a".into()],
            ..Default::default()
        };
        assert_eq!(
            endpoint(&builtin).unwrap_err(),
            "network-scoped aliases are only supported for user-defined networks"
        );
        let user = NetworkAttachment {
            target: "mynet".into(),
            ipv4: "10.0.0.2".into(),
            ..Default::default()
        };
        let ep = endpoint(&user).unwrap();
        assert_eq!(ep["IPAMConfig"], json!({"IPv4Address": "10.0.0.2"}));
        assert_eq!(ep["Aliases"], Value::Null);
        assert_eq!(network_name("container:abc"), "container");
        assert!(validate_mac("92:d0:c6:0a:29:33").is_ok());
        assert!(validate_mac("92:d0:c6").is_err());
    }
}
