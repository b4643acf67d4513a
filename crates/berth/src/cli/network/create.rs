//! `network create`: flags → the `POST /networks/create` body, with the IPAM config
//! consolidated and checked as docker/cli's `createIPAMConfig` does.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Result;
use berth_api::ApiVersion;
use clap::ArgAction;
use http::Method;
use serde_json::{json, Map, Value};

use super::cidr::{parse_cidr, subnet_matches};
use super::{flatten, key_values, StringSlice};
use crate::cli::container::values;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Driver to manage the Network
    #[arg(short = 'd', long, default_value = "bridge")]
    pub driver: String,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map")]
    pub opts: Vec<String>,
    /// Set metadata on a network
    #[arg(long = "label", value_parser = values::label)]
    pub labels: Vec<String>,
    /// Restrict external access to the network
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub internal: bool,
    /// Enable or disable IPv4 address assignment
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = values::go_bool)]
    pub ipv4: Option<bool>,
    /// Enable or disable IPv6 address assignment
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", action = ArgAction::Set, value_parser = values::go_bool)]
    pub ipv6: Option<bool>,
    /// Enable manual container attachment
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub attachable: bool,
    /// Create swarm routing-mesh network
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub ingress: bool,
    /// Control the network's scope
    #[arg(long, default_value = "")]
    pub scope: String,
    /// Create a configuration only network
    #[arg(long = "config-only", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub config_only: bool,
    /// The network from which to copy the configuration
    #[arg(long = "config-from", default_value = "")]
    pub config_from: String,
    /// IP Address Management Driver
    #[arg(long = "ipam-driver", default_value = "default")]
    pub ipam_driver: String,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long = "subnet", value_name = "strings", value_parser = StringSlice::parse)]
    pub subnets: Vec<StringSlice>,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range", value_name = "strings", value_parser = StringSlice::parse)]
    pub ip_ranges: Vec<StringSlice>,
    /// IPv4 or IPv6 Gateway for the master subnet
    #[arg(long = "gateway", value_name = "strings", value_parser = StringSlice::parse)]
    pub gateways: Vec<StringSlice>,
    /// Auxiliary IPv4 or IPv6 addresses used by Network driver
    #[arg(long = "aux-address", value_name = "map")]
    pub aux_addresses: Vec<String>,
    /// Set IPAM driver specific options
    #[arg(long = "ipam-opt", value_name = "map")]
    pub ipam_opts: Vec<String>,
    #[arg(value_name = "NETWORK")]
    pub name: String,
}

/// One subnet's consolidated config (`network.IPAMConfig`).
#[derive(Debug, Default)]
struct Pool {
    subnet: String,
    ip_range: Option<String>,
    gateway: Option<String>,
    aux: BTreeMap<String, String>,
}

impl Pool {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("Subnet".into(), json!(self.subnet));
        if let Some(r) = &self.ip_range {
            m.insert("IPRange".into(), json!(r));
        }
        if let Some(g) = &self.gateway {
            m.insert("Gateway".into(), json!(g));
        }
        if !self.aux.is_empty() {
            m.insert("AuxiliaryAddresses".into(), json!(self.aux));
        }
        Value::Object(m)
    }
}

/// The pool whose subnet holds `data` (at most one: subnets may not overlap).
fn holding<'a>(pools: &'a mut [Pool], data: &str) -> Result<Option<&'a mut Pool>, String> {
    for (i, p) in pools.iter().enumerate() {
        if subnet_matches(&p.subnet, data)? {
            return Ok(Some(&mut pools[i]));
        }
    }
    Ok(None)
}

/// docker/cli's `createIPAMConfig`: every range, gateway and auxiliary address goes with
/// the subnet that holds it; subnets may not overlap.
fn ipam_config(args: &CreateArgs) -> Result<Value, String> {
    let subnets = flatten(&args.subnets);
    let ranges = flatten(&args.ip_ranges);
    let gateways = flatten(&args.gateways);
    if subnets.len() < ranges.len() || subnets.len() < gateways.len() {
        return Err("every ip-range or gateway must have a corresponding subnet".into());
    }
    let mut pools: Vec<Pool> = Vec::new();
    for s in &subnets {
        for p in &pools {
            if subnet_matches(s, &p.subnet)? || subnet_matches(&p.subnet, s)? {
                return Err("multiple overlapping subnet configuration is not supported".into());
            }
        }
        pools.push(Pool {
            subnet: s.clone(),
            ..Pool::default()
        });
    }
    for r in &ranges {
        if !subnets.is_empty() {
            parse_cidr(r)?;
        }
        let p =
            holding(&mut pools, r)?.ok_or_else(|| format!("no matching subnet for range {r}"))?;
        if let Some(old) = &p.ip_range {
            return Err(format!(
                "cannot configure multiple ranges ({r}, {old}) on the same subnet ({})",
                p.subnet
            ));
        }
        p.ip_range = Some(r.clone());
    }
    for g in &gateways {
        let p =
            holding(&mut pools, g)?.ok_or_else(|| format!("no matching subnet for gateway {g}"))?;
        if let Some(old) = &p.gateway {
            return Err(format!(
                "cannot configure multiple gateways ({g}, {old}) for the same subnet ({})",
                p.subnet
            ));
        }
        p.gateway = Some(g.clone());
    }
    for (name, addr) in key_values(&args.aux_addresses) {
        let p = holding(&mut pools, &addr)?
            .ok_or_else(|| format!("no matching subnet for aux-address {addr}"))?;
        p.aux.insert(name, addr);
    }
    Ok(json!({
        "Driver": args.ipam_driver,
        "Options": key_values(&args.ipam_opts),
        "Config": pools.iter().map(Pool::to_json).collect::<Vec<_>>(),
    }))
}

/// The `POST /networks/create` body docker's client sends at API `version`. Maps go out
/// with their keys sorted, as Go encodes them.
pub fn create_body(args: &CreateArgs, version: ApiVersion) -> Result<Value, String> {
    let ipam = ipam_config(args)?;
    let mut body = Map::new();
    body.insert("Driver".into(), json!(args.driver));
    body.insert("Scope".into(), json!(args.scope));
    if let Some(v4) = args.ipv4 {
        body.insert("EnableIPv4".into(), json!(v4));
    }
    if let Some(v6) = args.ipv6 {
        body.insert("EnableIPv6".into(), json!(v6));
    }
    body.insert("IPAM".into(), ipam);
    body.insert("Internal".into(), json!(args.internal));
    body.insert("Attachable".into(), json!(args.attachable));
    body.insert("Ingress".into(), json!(args.ingress));
    body.insert("ConfigOnly".into(), json!(args.config_only));
    let config_from = if args.config_from.is_empty() {
        Value::Null
    } else {
        json!({"Network": args.config_from})
    };
    body.insert("ConfigFrom".into(), config_from);
    body.insert("Options".into(), json!(key_values(&args.opts)));
    body.insert("Labels".into(), json!(key_values(&args.labels)));
    body.insert("Name".into(), json!(args.name));
    // Deprecated in API 1.44; older daemons get it set, as docker's client does.
    if version < ApiVersion::new(1, 44) {
        body.insert("CheckDuplicate".into(), json!(true));
    }
    Ok(Value::Object(body))
}

pub async fn create(g: &GlobalOptions, args: CreateArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let version = client.negotiate().await?;
    let body = create_body(&args, version).map_err(anyhow::Error::msg)?;
    let res = client
        .request_json(Method::POST, "/networks/create", &body)
        .await?;
    let created: Value = serde_json::from_slice(&berth_client::read_body(res).await?)?;
    println!("{}", created["Id"].as_str().unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: CreateArgs,
    }

    fn parse(argv: &[&str]) -> CreateArgs {
        Cmd::try_parse_from(std::iter::once("create").chain(argv.iter().copied()))
            .unwrap()
            .args
    }

    fn body(argv: &[&str]) -> Result<Value, String> {
        create_body(&parse(argv), ApiVersion::new(1, 50))
    }

    #[test]
    fn plain_create_sends_dockers_defaults() {
        let b = create_body(&parse(&["n1"]), ApiVersion::new(1, 41)).unwrap();
        let expected = r#"{"Driver":"bridge","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{},"Name":"n1","CheckDuplicate":true}"#;
        assert_eq!(b.to_string(), expected);
        // Newer daemons do not get the deprecated CheckDuplicate.
        assert!(body(&["n1"]).unwrap().get("CheckDuplicate").is_none());
    }

    #[test]
    fn ipam_flags_group_by_subnet() {
        let b = body(&[
            "--subnet=10.6.0.0/16,fd00::/64",
            "--gateway",
            "10.6.0.1",
            "--ip-range",
            "10.6.2.0/24",
            "--aux-address",
            "b=10.6.0.10",
            "--aux-address",
            "a=10.6.0.9",
            "--ipam-opt",
            "io=1",
            "--ipam-driver",
            "custom",
            "n3",
        ])
        .unwrap();
        assert_eq!(
            b["IPAM"].to_string(),
            r#"{"Driver":"custom","Options":{"io":"1"},"Config":[{"Subnet":"10.6.0.0/16","IPRange":"10.6.2.0/24","Gateway":"10.6.0.1","AuxiliaryAddresses":{"a":"10.6.0.9","b":"10.6.0.10"}},{"Subnet":"fd00::/64"}]}"#
        );
    }

    #[test]
    fn flags_map_to_fields() {
        let b = body(&[
            "-d",
            "macvlan",
            "-o",
            "k=v",
            "-o",
            "bare",
            "--label",
            "x=y",
            "--label",
            "z",
            "--internal",
            "--attachable",
            "--ipv6",
            "--ipv4=false",
            "--scope",
            "local",
            "--config-from",
            "base",
            "n",
        ])
        .unwrap();
        assert_eq!(b["Driver"], "macvlan");
        assert_eq!(b["Options"], json!({"bare": "", "k": "v"}));
        assert_eq!(b["Labels"], json!({"x": "y", "z": ""}));
        assert_eq!(
            (&b["Internal"], &b["Attachable"], &b["Ingress"]),
            (&json!(true), &json!(true), &json!(false))
        );
        assert_eq!(
            (&b["EnableIPv4"], &b["EnableIPv6"]),
            (&json!(false), &json!(true))
        );
        assert_eq!(b["Scope"], "local");
        assert_eq!(b["ConfigFrom"], json!({"Network": "base"}));
        // Unset --ipv4/--ipv6 are left out, so the daemon's defaults apply.
        let plain = body(&["n"]).unwrap();
        assert!(plain.get("EnableIPv4").is_none() && plain.get("EnableIPv6").is_none());
    }

    #[test]
    fn ipam_mistakes_use_dockers_words() {
        let err = |argv: &[&str]| body(argv).unwrap_err();
        assert_eq!(
            err(&["--gateway", "10.0.0.1", "n"]),
            "every ip-range or gateway must have a corresponding subnet"
        );
        assert_eq!(
            err(&["--subnet", "10.9.0.0/16", "--ip-range", "10.8.0.0/24", "n"]),
            "no matching subnet for range 10.8.0.0/24"
        );
        assert_eq!(
            err(&["--subnet", "10.9.0.0/16", "--subnet", "10.9.1.0/24", "n"]),
            "multiple overlapping subnet configuration is not supported"
        );
        assert_eq!(
            err(&[
                "--subnet",
                "10.9.0.0/16",
                "--aux-address",
                "a=10.10.0.3",
                "n"
            ]),
            "no matching subnet for aux-address 10.10.0.3"
        );
        assert_eq!(
            err(&["--subnet", "10.9.0.0/16", "--aux-address", "10.9.0.3", "n"]),
            "no matching subnet for aux-address "
        );
        assert_eq!(
            err(&["--subnet", "10.9.0.0/16", "--ip-range", "bogus", "n"]),
            "invalid CIDR address: bogus"
        );
        assert_eq!(
            err(&["--subnet", "10.9.0.0/16", "--gateway", "bogus", "n"]),
            "no matching subnet for gateway bogus"
        );
        assert_eq!(
            err(&[
                "--subnet=10.9.0.0/16,10.10.0.0/16",
                "--gateway=10.9.0.1,10.9.0.2",
                "n"
            ]),
            "cannot configure multiple gateways (10.9.0.2, 10.9.0.1) for the same subnet (10.9.0.0/16)"
        );
        assert_eq!(
            err(&["--subnet", "10.0.0.0/8", "--subnet", "bogus", "n"]),
            "invalid subnet: invalid CIDR address: bogus"
        );
        // A lone subnet is the daemon's to judge.
        assert!(body(&["--subnet", "bogus", "n"]).is_ok());
    }
}
