//! `network rm` (each name printed as it goes, each failure on stderr, exit 1 if any)
//! and `network prune` (docker's prompt, then the `Deleted Networks:` list).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use berth_api::Filters;
use berth_client::ClientError;
use clap::ArgAction;
use http::{Method, StatusCode};
use serde_json::Value;

use super::trim_id;
use crate::cli::container::status::StatusError;
use crate::cli::container::{encode_id, values};
use crate::cli::query::Query;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct RemoveArgs {
    /// Do not error if the network does not exist
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub force: bool,
    #[arg(value_name = "NETWORK", required = true)]
    pub networks: Vec<String>,
}

pub async fn remove(g: &GlobalOptions, args: RemoveArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let mut failed = false;
    for name in &args.networks {
        let id = match trim_id("network", name) {
            Ok(id) => id,
            Err(e) => {
                eprintln!("{e}");
                failed = true;
                continue;
            }
        };
        let path = format!("/networks/{}", encode_id(id));
        match client.request(Method::DELETE, &path, None).await {
            Ok(_) => println!("{name}"),
            Err(ClientError::Daemon {
                status: StatusCode::NOT_FOUND,
                ..
            }) if args.force => {}
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        // docker's `cli.StatusError{Status: "exit status 1"}`, which it prints too.
        return Err(StatusError::new("exit status 1", 1).into());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_parser = values::filter)]
    pub filters: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub force: bool,
}

const PRUNE_WARNING: &str =
    "WARNING! This will remove all custom networks not used by at least one container.";

/// The prune report as docker prints it: nothing when nothing went, else the list and a
/// blank line.
fn write_report(out: &mut dyn Write, report: &Value) -> std::io::Result<()> {
    let deleted: Vec<&str> = report["NetworksDeleted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if deleted.is_empty() {
        return Ok(());
    }
    writeln!(out, "Deleted Networks:")?;
    for name in deleted {
        writeln!(out, "{name}")?;
    }
    writeln!(out)
}

pub async fn prune(g: &GlobalOptions, args: PruneArgs) -> Result<ExitCode> {
    let filters = Filters::from_cli_args(args.filters.iter().map(String::as_str))
        .map_err(anyhow::Error::msg)?;
    // Declining is a cancellation, which docker ends quietly with status 0.
    if !args.force && !crate::cli::confirm(PRUNE_WARNING)? {
        return Ok(ExitCode::SUCCESS);
    }
    let mut q = Query::new();
    if !filters.is_empty() {
        q.push("filters", &filters.to_json());
    }
    let mut client = g.client()?;
    let res = client
        .request(Method::POST, &q.path("/networks/prune"), None)
        .await?;
    let report: Value = serde_json::from_slice(&berth_client::read_body(res).await?)
        .map_err(|e| anyhow::anyhow!("Error retrieving network prune report: {e}"))?;
    write_report(&mut std::io::stdout().lock(), &report)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(v: Value) -> String {
        let mut out = Vec::new();
        write_report(&mut out, &v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn prune_report_lists_names_then_a_blank_line() {
        assert_eq!(
            report(json!({"NetworksDeleted": ["n2", "n3"]})),
            "Deleted Networks:\nn2\nn3\n\n"
        );
        assert_eq!(report(json!({"NetworksDeleted": []})), "");
        assert_eq!(report(json!({"NetworksDeleted": null})), "");
    }
}
