//! `network connect` and `network disconnect`: the endpoint settings docker's CLI sends
//! for a container joining a network, and the disconnect request.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Result;
use clap::ArgAction;
use http::Method;
use serde_json::{json, Map, Value};

use super::{flatten, trim_id, StringSlice};
use crate::cli::container::{encode_id, values};
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct ConnectArgs {
    /// IPv4 address (e.g., "172.30.100.104")
    #[arg(long, default_value = "")]
    pub ip: String,
    /// IPv6 address (e.g., "2001:db8::33")
    #[arg(long, default_value = "")]
    pub ip6: String,
    /// Add link to another container
    #[arg(long = "link", value_name = "list", value_parser = values::link)]
    pub links: Vec<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "alias", value_name = "strings", value_parser = StringSlice::parse)]
    pub aliases: Vec<StringSlice>,
    /// Add a link-local address for the container
    #[arg(long = "link-local-ip", value_name = "strings", value_parser = StringSlice::parse)]
    pub link_local_ips: Vec<StringSlice>,
    /// driver options for the network
    #[arg(long = "driver-opt", value_name = "strings", value_parser = StringSlice::parse)]
    pub driver_opts: Vec<StringSlice>,
    /// Highest gw-priority provides the default gateway. Accepts positive and negative values.
    #[arg(long = "gw-priority", default_value = "0", value_parser = values::go_int, allow_hyphen_values = true)]
    pub gw_priority: i64,
    #[arg(value_name = "NETWORK")]
    pub network: String,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// docker/cli's `convertDriverOpt`: `k=v` with space trimmed; a key is required.
fn driver_opts(items: &[String]) -> Result<BTreeMap<String, String>, String> {
    items
        .iter()
        .map(|o| match o.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
            _ => Err("invalid key/value pair format in driver options".to_owned()),
        })
        .collect()
}

/// The `POST /networks/{network}/connect` path and body (`network.ConnectOptions`, every
/// `EndpointSettings` field as docker's client encodes it), checked in docker's order.
pub fn connect_request(args: &ConnectArgs) -> Result<(String, Value), String> {
    let opts = driver_opts(&flatten(&args.driver_opts))?;
    let network = trim_id("network", &args.network)?;
    let container = trim_id("container", &args.container)?;
    let mut ipam = Map::new();
    if !args.ip.is_empty() {
        ipam.insert("IPv4Address".into(), json!(args.ip));
    }
    if !args.ip6.is_empty() {
        ipam.insert("IPv6Address".into(), json!(args.ip6));
    }
    let link_local = flatten(&args.link_local_ips);
    if !link_local.is_empty() {
        ipam.insert("LinkLocalIPs".into(), json!(link_local));
    }
    // `--link` is a ListOpts (nil when unset); `--alias` a StringSlice (empty, not nil).
    let links = if args.links.is_empty() {
        Value::Null
    } else {
        json!(args.links)
    };
    let body = json!({
        "Container": container,
        "EndpointConfig": {
            "IPAMConfig": ipam,
            "Links": links,
            "Aliases": flatten(&args.aliases),
            "MacAddress": "",
            "DriverOpts": opts,
            "GwPriority": args.gw_priority,
            "NetworkID": "",
            "EndpointID": "",
            "Gateway": "",
            "IPAddress": "",
            "IPPrefixLen": 0,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "DNSNames": null,
        },
    });
    Ok((format!("/networks/{}/connect", encode_id(network)), body))
}

pub async fn connect(g: &GlobalOptions, args: ConnectArgs) -> Result<ExitCode> {
    let (path, body) = connect_request(&args).map_err(anyhow::Error::msg)?;
    let mut client = g.client()?;
    client.request_json(Method::POST, &path, &body).await?;
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub force: bool,
    #[arg(value_name = "NETWORK")]
    pub network: String,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

pub async fn disconnect(g: &GlobalOptions, args: DisconnectArgs) -> Result<ExitCode> {
    let network = trim_id("network", &args.network).map_err(anyhow::Error::msg)?;
    let container = trim_id("container", &args.container).map_err(anyhow::Error::msg)?;
    let mut client = g.client()?;
    let path = format!("/networks/{}/disconnect", encode_id(network));
    let body = json!({"Container": container, "Force": args.force});
    client.request_json(Method::POST, &path, &body).await?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: ConnectArgs,
    }

    fn body(argv: &[&str]) -> Result<Value, String> {
        let cmd =
            Cmd::try_parse_from(std::iter::once("connect").chain(argv.iter().copied())).unwrap();
        connect_request(&cmd.args).map(|(_, body)| body)
    }

    #[test]
    fn bare_connect_matches_dockers_body() {
        let cmd = Cmd::try_parse_from(["connect", " my net ", "c1"]).unwrap();
        assert_eq!(
            connect_request(&cmd.args).unwrap().0,
            "/networks/my%20net/connect"
        );
        let expected = r#"{"Container":"c1","EndpointConfig":{"IPAMConfig":{},"Links":null,"Aliases":[],"MacAddress":"","DriverOpts":{},"GwPriority":0,"NetworkID":"","EndpointID":"","Gateway":"","IPAddress":"","IPPrefixLen":0,"IPv6Gateway":"","GlobalIPv6Address":"","GlobalIPv6PrefixLen":0,"DNSNames":null}}"#;
        assert_eq!(body(&["n1", " c1 "]).unwrap().to_string(), expected);
    }

    #[test]
    fn flags_fill_the_endpoint() {
        let b = body(&[
            "--ip",
            "10.6.2.5",
            "--ip6",
            "fd00::5",
            "--link-local-ip",
            "169.254.0.5",
            "--alias=a1,a2",
            "--alias",
            "a3",
            "--link",
            "foo:bar",
            "--driver-opt",
            " y = 2 ,x=1",
            "--gw-priority",
            "-3",
            "n3",
            "c",
        ])
        .unwrap();
        let ep = &b["EndpointConfig"];
        assert_eq!(
            ep["IPAMConfig"].to_string(),
            r#"{"IPv4Address":"10.6.2.5","IPv6Address":"fd00::5","LinkLocalIPs":["169.254.0.5"]}"#
        );
        assert_eq!(ep["Aliases"], json!(["a1", "a2", "a3"]));
        assert_eq!(ep["Links"], json!(["foo:bar"]));
        assert_eq!(ep["DriverOpts"].to_string(), r#"{"x":"1","y":"2"}"#);
        assert_eq!(ep["GwPriority"], -3);
    }

    #[test]
    fn mistakes_use_dockers_words() {
        assert_eq!(
            body(&["--driver-opt", "novalue", "n", "c"]).unwrap_err(),
            "invalid key/value pair format in driver options"
        );
        assert_eq!(
            body(&["--driver-opt", " =v", "n", "c"]).unwrap_err(),
            "invalid key/value pair format in driver options"
        );
        assert_eq!(
            body(&["n", " "]).unwrap_err(),
            "invalid container name or ID: value is empty"
        );
        assert_eq!(
            body(&["", ""]).unwrap_err(),
            "invalid network name or ID: value is empty"
        );
    }
}
