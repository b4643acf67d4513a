//! `port` / `container port`: a container's published ports, read from its inspect
//! document and printed as docker prints them (`80/tcp -> 127.0.0.1:8080`, naturally
//! sorted), or the host addresses of one private port.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::Value;

use super::inspect_container;
use crate::cli::natural;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct PortArgs {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
}

/// Go's `net.JoinHostPort`: IPv6 hosts in brackets.
fn join_host_port(host: &str, port: &str) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The `HostIp:HostPort` of each binding in a `NetworkSettings.Ports` entry.
fn frontends(bindings: &Value) -> Vec<String> {
    bindings
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            join_host_port(
                b["HostIp"].as_str().unwrap_or_default(),
                b["HostPort"].as_str().unwrap_or_default(),
            )
        })
        .collect()
}

/// Go's `strconv.ParseUint(s, 10, 16)` error text.
fn parse_port(port: &str) -> Result<u16, String> {
    if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.ParseUint: parsing {port:?}: invalid syntax"
        ));
    }
    port.parse()
        .map_err(|_| format!("strconv.ParseUint: parsing {port:?}: value out of range"))
}

/// The lines `docker port` prints for a container whose published ports are `ports`
/// (`NetworkSettings.Ports`), for all ports or for `wanted` (`PORT[/PROTO]`).
pub fn port_lines(
    ports: &Value,
    container: &str,
    wanted: Option<&str>,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    match wanted.filter(|w| !w.is_empty()) {
        Some(wanted) => {
            let (port, proto) = wanted.split_once('/').unwrap_or((wanted, ""));
            let proto = if proto.is_empty() { "tcp" } else { proto };
            parse_port(port).map_err(|e| format!("Error: invalid port ({port}): {e}"))?;
            out = frontends(&ports[format!("{port}/{proto}")]);
            if out.is_empty() {
                return Err(format!(
                    "Error: No public port '{wanted}' published for {container}"
                ));
            }
        }
        None => {
            for (private, bindings) in ports.as_object().into_iter().flatten() {
                out.extend(
                    frontends(bindings)
                        .into_iter()
                        .map(|f| format!("{private} -> {f}")),
                );
            }
        }
    }
    out.sort_by(|a, b| natural::compare(a, b));
    Ok(out)
}

pub async fn port(g: &GlobalOptions, args: PortArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let c = inspect_container(&mut client, &args.container).await?;
    let lines = port_lines(
        &c["NetworkSettings"]["Ports"],
        &args.container,
        args.port.as_deref(),
    )
    .map_err(anyhow::Error::msg)?;
    if !lines.is_empty() {
        println!("{}", lines.join("\n"));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ports() -> Value {
        json!({
            "443/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8443"}],
            "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"},
                       {"HostIp": "::1", "HostPort": "18080"}],
            "81/udp": [{"HostIp": "0.0.0.0", "HostPort": "18081"}],
            "82/tcp": null,
        })
    }

    #[test]
    fn all_ports_sorted_naturally() {
        assert_eq!(
            port_lines(&ports(), "web", None).unwrap(),
            [
                "80/tcp -> 127.0.0.1:18080",
                "80/tcp -> [::1]:18080",
                "81/udp -> 0.0.0.0:18081",
                "443/tcp -> 0.0.0.0:8443",
            ]
        );
        assert!(port_lines(&Value::Null, "web", None).unwrap().is_empty());
    }

    #[test]
    fn one_port_defaults_to_tcp() {
        assert_eq!(
            port_lines(&ports(), "web", Some("80")).unwrap(),
            ["127.0.0.1:18080", "[::1]:18080"]
        );
        assert_eq!(
            port_lines(&ports(), "web", Some("81/udp")).unwrap(),
            ["0.0.0.0:18081"]
        );
    }

    #[test]
    fn errors_read_like_dockers() {
        let err = |w: &str| port_lines(&ports(), "web", Some(w)).unwrap_err();
        assert_eq!(
            err("81/tcp"),
            "Error: No public port '81/tcp' published for web"
        );
        assert_eq!(err("81"), "Error: No public port '81' published for web");
        assert_eq!(err("82"), "Error: No public port '82' published for web");
        assert_eq!(
            err("abc"),
            "Error: invalid port (abc): strconv.ParseUint: parsing \"abc\": invalid syntax"
        );
        assert_eq!(
            err("70000/udp"),
            "Error: invalid port (70000): strconv.ParseUint: parsing \"70000\": value out of range"
        );
        assert_eq!(
            err("/tcp"),
            "Error: invalid port (): strconv.ParseUint: parsing \"\": invalid syntax"
        );
    }
}
