//! `network inspect`: the daemon's documents as an indented JSON array, `json` or a
//! template, with docker's per-name errors and exit statuses.

use std::process::ExitCode;

use anyhow::Result;
use clap::ArgAction;
use serde_json::Value;

use super::trim_id;
use crate::cli::container::{check_inspect_format, encode_id, finish_inspect, values};
use crate::cli::query::Query;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Verbose output for diagnostics
    #[arg(short = 'v', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub verbose: bool,
    #[arg(value_name = "NETWORK", required = true)]
    pub networks: Vec<String>,
}

/// `GET /networks/{name}`, with `verbose=true` when asked.
pub fn inspect_path(name: &str, verbose: bool) -> Result<String, String> {
    let name = trim_id("network", name)?;
    let mut q = Query::new();
    if verbose {
        q.push("verbose", "true");
    }
    Ok(q.path(&format!("/networks/{}", encode_id(name))))
}

pub async fn inspect(g: &GlobalOptions, args: InspectArgs) -> Result<ExitCode> {
    check_inspect_format(args.format.as_deref())?;
    let mut client = g.client()?;
    let (mut found, mut errors) = (Vec::new(), Vec::new());
    for name in &args.networks {
        let path = match inspect_path(name, args.verbose) {
            Ok(p) => p,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match client.get_json::<Value>(&path).await {
            Ok(v) => found.push(v),
            Err(e) => errors.push(e.to_string()),
        }
    }
    finish_inspect(args.format.as_deref(), &found, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_carry_verbose_and_trimmed_names() {
        assert_eq!(inspect_path(" n1 ", false).unwrap(), "/networks/n1");
        assert_eq!(
            inspect_path("my net", true).unwrap(),
            "/networks/my%20net?verbose=true"
        );
        assert_eq!(
            inspect_path("", false).unwrap_err(),
            "invalid network name or ID: value is empty"
        );
    }
}
