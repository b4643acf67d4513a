//! Published ports: what `-p` and `-P` ask for, turned into concrete host bindings.

use std::net::Ipv4Addr;

use berth_api::models::{ContainerConfig, HostConfig};

/// One requested binding: a host port of `0` means "any free port", a range means "the
/// first free one in it".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRequest {
    pub proto: String,
    pub container_port: u16,
    pub host_ip: Option<Ipv4Addr>,
    /// Inclusive; `(0, 0)` for any.
    pub host_ports: (u16, u16),
}

/// `80/tcp` → (80, "tcp").
pub fn parse_port_key(key: &str) -> Result<(u16, String), String> {
    let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
    let proto = proto.to_ascii_lowercase();
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(format!("invalid proto: {proto}"));
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("invalid port: {key}"))?;
    Ok((port, proto))
}

fn parse_host_ports(s: &str) -> Result<(u16, u16), String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok((0, 0));
    }
    let parse = |p: &str| {
        p.parse::<u16>()
            .map_err(|_| format!("invalid hostPort: {s}"))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (parse(a)?, parse(b)?);
            if a > b {
                return Err(format!("invalid hostPort: {s}"));
            }
            Ok((a, b))
        }
        None => {
            let p = parse(s)?;
            Ok((p, p))
        }
    }
}

/// The bindings a container asks for: `PortBindings`, plus with `PublishAllPorts` every
/// exposed port without one (each to a free host port), as Docker does. Sorted for a
/// stable order.
pub fn requests(cfg: &ContainerConfig, hc: &HostConfig) -> Result<Vec<PortRequest>, String> {
    let mut out = Vec::new();
    let mut keys: Vec<&String> = hc.port_bindings.iter().flatten().map(|(k, _)| k).collect();
    keys.sort();
    for key in keys {
        let (container_port, proto) = parse_port_key(key)?;
        let bindings = hc
            .port_bindings
            .as_ref()
            .and_then(|m| m.get(key))
            .cloned()
            .flatten()
            .unwrap_or_default();
        let bindings = if bindings.is_empty() {
            vec![Default::default()]
        } else {
            bindings
        };
        for b in bindings {
            let host_ip = match b.host_ip.as_deref().map(str::trim).unwrap_or("") {
                "" | "0.0.0.0" => None,
                "::" => continue,
                ip => Some(ip.parse::<Ipv4Addr>().map_err(|_| {
                    format!("invalid host IP address {ip}: only IPv4 addresses are supported")
                })?),
            };
            out.push(PortRequest {
                proto: proto.clone(),
                container_port,
                host_ip,
                host_ports: parse_host_ports(b.host_port.as_deref().unwrap_or(""))?,
            });
        }
    }
    if hc.publish_all_ports.unwrap_or(false) {
        let mut exposed: Vec<(u16, String)> = cfg
            .exposed_ports
            .iter()
            .flatten()
            .filter_map(|k| parse_port_key(k).ok())
            .collect();
        exposed.sort();
        for (port, proto) in exposed {
            if out
                .iter()
                .any(|r| r.container_port == port && r.proto == proto)
            {
                continue;
            }
            out.push(PortRequest {
                proto,
                container_port: port,
                host_ip: None,
                host_ports: (0, 0),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_api::models::PortBinding;
    use std::collections::HashMap;

    fn hc(bindings: &[(&str, Option<&str>, Option<&str>)], all: bool) -> HostConfig {
        let mut map: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
        for (k, ip, port) in bindings {
            map.entry(k.to_string())
                .or_insert_with(|| Some(vec![]))
                .as_mut()
                .unwrap()
                .push(PortBinding {
                    host_ip: ip.map(str::to_owned),
                    host_port: port.map(str::to_owned),
                });
        }
        HostConfig {
            port_bindings: Some(map),
            publish_all_ports: Some(all),
            ..Default::default()
        }
    }

    #[test]
    fn bindings_expand_with_ips_ranges_and_free_ports() {
        let cfg = ContainerConfig::default();
        let r = requests(
            &cfg,
            &hc(
                &[
                    ("80/tcp", Some("127.0.0.1"), Some("18080")),
                    ("53/udp", None, Some("")),
                    ("81", Some(""), Some("9000-9010")),
                ],
                false,
            ),
        )
        .unwrap();
        assert_eq!(
            r,
            vec![
                PortRequest {
                    proto: "udp".into(),
                    container_port: 53,
                    host_ip: None,
                    host_ports: (0, 0)
                },
                PortRequest {
                    proto: "tcp".into(),
                    container_port: 80,
                    host_ip: Some(Ipv4Addr::LOCALHOST),
                    host_ports: (18080, 18080)
                },
                PortRequest {
                    proto: "tcp".into(),
                    container_port: 81,
                    host_ip: None,
                    host_ports: (9000, 9010)
                },
            ]
        );
    }

    #[test]
    fn publish_all_adds_exposed_ports_not_already_bound() {
        let cfg = ContainerConfig {
            exposed_ports: Some(vec!["80/tcp".into(), "443/tcp".into()]),
            ..Default::default()
        };
        let r = requests(&cfg, &hc(&[("80/tcp", None, Some("8080"))], true)).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].container_port, 443);
        assert_eq!(r[1].host_ports, (0, 0));
    }

    #[test]
    fn bad_values_are_errors() {
        let cfg = ContainerConfig::default();
        assert!(requests(&cfg, &hc(&[("http/tcp", None, None)], false)).is_err());
        assert!(requests(&cfg, &hc(&[("80/tcp", Some("nope"), None)], false)).is_err());
        assert!(requests(&cfg, &hc(&[("80/tcp", None, Some("9-1"))], false)).is_err());
    }
}
