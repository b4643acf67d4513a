//! `berth network …`: create, list, inspect, remove, prune, connect and disconnect, as
//! the docker CLI has them — same flags, bodies, tables and messages.

mod cidr;
mod connect;
mod create;
mod inspect;
mod list;
mod remove;

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use super::container::values::csv_fields;
use super::GlobalOptions;

#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Connect a container to a network
    Connect(connect::ConnectArgs),
    /// Create a network
    Create(create::CreateArgs),
    /// Disconnect a container from a network
    Disconnect(connect::DisconnectArgs),
    /// Display detailed information on one or more networks
    Inspect(inspect::InspectArgs),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(list::ListArgs),
    /// Remove all unused networks
    Prune(remove::PruneArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(remove::RemoveArgs),
}

pub async fn dispatch(g: &GlobalOptions, cmd: NetworkCommand) -> Result<ExitCode> {
    match cmd {
        NetworkCommand::Connect(a) => connect::connect(g, a).await,
        NetworkCommand::Create(a) => create::create(g, a).await,
        NetworkCommand::Disconnect(a) => connect::disconnect(g, a).await,
        NetworkCommand::Inspect(a) => inspect::inspect(g, a).await,
        NetworkCommand::Ls(a) => list::list(g, a).await,
        NetworkCommand::Prune(a) => remove::prune(g, a).await,
        NetworkCommand::Rm(a) => remove::remove(g, a).await,
    }
}

/// One occurrence of a pflag `StringSlice` flag: comma-separated values, CSV-quoted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringSlice(Vec<String>);

impl StringSlice {
    pub fn parse(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            return Ok(Self(Vec::new()));
        }
        csv_fields(s).map(Self)
    }
}

/// Every value of a repeated `StringSlice` flag, in order.
pub fn flatten(slices: &[StringSlice]) -> Vec<String> {
    slices.iter().flat_map(|s| s.0.iter().cloned()).collect()
}

/// A pflag map flag (`opts.MapOpts`): `k=v` items, a bare `k` meaning "", the last of a
/// key winning; sorted, as Go encodes maps.
pub fn key_values(items: &[String]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (kv.clone(), String::new()),
        })
        .collect()
}

/// The client's `trimID`: a name or ID without surrounding space, which must not be empty.
pub fn trim_id<'a>(kind: &str, id: &'a str) -> Result<&'a str, String> {
    let id = id.trim();
    if id.is_empty() {
        return Err(format!("invalid {kind} name or ID: value is empty"));
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_split_on_commas() {
        let parsed: Vec<StringSlice> = ["a,b", "\"c,d\"", ""]
            .iter()
            .map(|s| StringSlice::parse(s).unwrap())
            .collect();
        assert_eq!(flatten(&parsed), ["a", "b", "c,d"]);
        assert!(StringSlice::parse("\"a").is_err());
    }

    #[test]
    fn maps_take_bare_keys_and_last_values() {
        let m = key_values(&["b=1".into(), "a".into(), "b=2=3".into()]);
        assert_eq!(
            m.into_iter().collect::<Vec<_>>(),
            [("a".into(), "".into()), ("b".into(), "2=3".into())]
        );
    }

    #[test]
    fn ids_are_trimmed_and_required() {
        assert_eq!(trim_id("network", " n1 ").unwrap(), "n1");
        assert_eq!(
            trim_id("container", "  ").unwrap_err(),
            "invalid container name or ID: value is empty"
        );
    }
}
