//! `-p`/`--publish` and `--expose` as go-connections' `nat.ParsePortSpecs` reads them:
//! exposed ports keyed `port/proto` and their host bindings.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

/// Exposed ports (`80/tcp`), in order.
pub type PortSet = BTreeMap<String, ()>;

/// `nat.ParsePortSpecs` for `-p` (after docker's long-syntax conversion): exposed ports
/// and their bindings, keyed `port/proto`.
pub fn ports(specs: &[String]) -> Result<(PortSet, Map<String, Value>), String> {
    let mut exposed = BTreeMap::new();
    let mut bindings = Map::new();
    for spec in specs {
        let spec = if spec.contains('=') {
            long_port_syntax(spec)?
        } else {
            spec.clone()
        };
        for (port, binding) in port_spec(&spec)? {
            exposed.insert(port.clone(), ());
            bindings
                .entry(port)
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .expect("an array")
                .push(binding);
        }
    }
    Ok((exposed, bindings))
}

fn long_port_syntax(spec: &str) -> Result<String, String> {
    let mut params: BTreeMap<&str, &str> = BTreeMap::from([("protocol", "tcp")]);
    for param in spec.split(',') {
        match param.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                params.insert(k, v);
            }
            _ => {
                return Err(format!(
                    "invalid publish opts format (should be name=value but got '{param}')"
                ))
            }
        }
    }
    let get = |k: &str| params.get(k).copied().unwrap_or_default();
    Ok(format!(
        "{}:{}/{}",
        get("published"),
        get("target"),
        get("protocol")
    ))
}

fn split_proto_port(raw: &str) -> (String, String) {
    let parts: Vec<&str> = raw.split('/').collect();
    if raw.is_empty() || parts[0].is_empty() {
        return (String::new(), String::new());
    }
    if parts.len() == 1 || parts[1].is_empty() {
        return ("tcp".into(), parts[0].into());
    }
    (parts[1].into(), parts[0].into())
}

fn port_range(ports: &str) -> Result<(u64, u64), String> {
    if ports.is_empty() {
        return Err("empty string specified for ports".into());
    }
    let parse = |p: &str| p.parse::<u16>().map(u64::from).map_err(|e| e.to_string());
    match ports.split_once('-') {
        None => {
            let p = parse(ports)?;
            Ok((p, p))
        }
        Some((a, b)) => {
            let (start, end) = (parse(a)?, parse(b.split('-').next().unwrap_or(b))?);
            if end < start {
                return Err(format!("invalid range specified for port: {ports}"));
            }
            Ok((start, end))
        }
    }
}

fn port_spec(raw: &str) -> Result<Vec<(String, Value)>, String> {
    let parts: Vec<&str> = raw.split(':').collect();
    let n = parts.len();
    let (ip, host_port, container) = match n {
        1 => (String::new(), "", parts[0]),
        2 => (String::new(), parts[0], parts[1]),
        3 => (parts[0].to_owned(), parts[1], parts[2]),
        _ => (parts[..n - 2].join(":"), parts[n - 2], parts[n - 1]),
    };
    let (proto, container) = split_proto_port(container);
    let mut ip = ip;
    if ip.starts_with('[') {
        ip = ip
            .strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .map(str::to_owned)
            .ok_or_else(|| format!("invalid IP address {ip}: missing ']' in address"))?;
    }
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(format!("invalid IP address: {ip}"));
    }
    if container.is_empty() {
        return Err(format!("no port specified: {raw}<empty>"));
    }
    let (start, end) =
        port_range(&container).map_err(|_| format!("invalid containerPort: {container}"))?;
    let (mut host_start, mut host_end) = (0, 0);
    if !host_port.is_empty() {
        (host_start, host_end) =
            port_range(host_port).map_err(|_| format!("invalid hostPort: {host_port}"))?;
    }
    if !host_port.is_empty() && end - start != host_end - host_start && end != start {
        return Err(format!(
            "invalid ranges specified for container and host Ports: {container} and {host_port}"
        ));
    }
    let proto = proto.to_lowercase();
    if !["tcp", "udp", "sctp"].contains(&proto.as_str()) {
        return Err(format!("invalid proto: {proto}"));
    }
    let mut out = Vec::new();
    for i in 0..=(end - start) {
        let mut hp = String::new();
        if !host_port.is_empty() {
            hp = (host_start + i).to_string();
        }
        if start == end && host_start != host_end {
            hp = format!("{hp}-{host_end}");
        }
        out.push((
            format!("{}/{proto}", start + i),
            json!({"HostIp": ip, "HostPort": hp}),
        ));
    }
    Ok(out)
}

pub fn expose(exposed: &mut PortSet, e: &str) -> Result<(), String> {
    if e.contains(':') {
        return Err(format!("invalid port format for --expose: {e}"));
    }
    let (proto, port) = split_proto_port(e);
    let (start, end) = port_range(&port)
        .map_err(|err| format!("invalid range format for --expose: {e}, error: {err}"))?;
    for p in start..=end {
        exposed.insert(format!("{p}/{proto}"), ());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_specs() {
        let (exposed, bindings) = ports(&[
            "8080:80".into(),
            "127.0.0.1:53:53/udp".into(),
            "9000-9001:9000-9001".into(),
            "[::1]:5000:5000".into(),
            "published=8443,target=443".into(),
        ])
        .unwrap();
        assert_eq!(
            exposed.keys().collect::<Vec<_>>(),
            ["443/tcp", "5000/tcp", "53/udp", "80/tcp", "9000/tcp", "9001/tcp"]
        );
        assert_eq!(
            bindings["80/tcp"],
            json!([{"HostIp": "", "HostPort": "8080"}])
        );
        assert_eq!(
            bindings["53/udp"],
            json!([{"HostIp": "127.0.0.1", "HostPort": "53"}])
        );
        assert_eq!(
            bindings["9001/tcp"],
            json!([{"HostIp": "", "HostPort": "9001"}])
        );
        assert_eq!(
            bindings["5000/tcp"],
            json!([{"HostIp": "::1", "HostPort": "5000"}])
        );
        assert_eq!(
            bindings["443/tcp"],
            json!([{"HostIp": "", "HostPort": "8443"}])
        );
        // A container port with a host range: one binding to the whole range.
        let (_, b) = ports(&["8000-8002:80".into()]).unwrap();
        assert_eq!(
            b["80/tcp"],
            json!([{"HostIp": "", "HostPort": "8000-8002"}])
        );
    }

    #[test]
    fn publish_errors_use_nat_words() {
        let err = |s: &str| ports(&[s.to_owned()]).unwrap_err();
        assert_eq!(err("80:80/bogus"), "invalid proto: bogus");
        assert_eq!(err("1.2.3:80:80"), "invalid IP address: 1.2.3");
        assert_eq!(err("80:"), "no port specified: 80:<empty>");
        assert_eq!(err("x:80"), "invalid hostPort: x");
        assert_eq!(
            err("80-81:90-92"),
            "invalid ranges specified for container and host Ports: 90-92 and 80-81"
        );
        assert_eq!(
            err("published=1,target"),
            "invalid publish opts format (should be name=value but got 'target')"
        );
    }

    #[test]
    fn expose_ranges() {
        let mut set = PortSet::new();
        expose(&mut set, "7000-7001").unwrap();
        expose(&mut set, "6000/udp").unwrap();
        assert_eq!(
            set.keys().collect::<Vec<_>>(),
            ["6000/udp", "7000/tcp", "7001/tcp"]
        );
        assert_eq!(
            expose(&mut set, "1:2").unwrap_err(),
            "invalid port format for --expose: 1:2"
        );
    }
}
