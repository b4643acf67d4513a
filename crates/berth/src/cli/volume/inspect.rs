//! `volume inspect`: the daemon's documents as an indented JSON array, `json` or a
//! template, with docker's per-name errors and exit statuses.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::Value;

use super::trim_name;
use crate::cli::container::{check_inspect_format, encode_id, finish_inspect};
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    #[arg(value_name = "VOLUME", required = true)]
    pub volumes: Vec<String>,
}

/// `GET /volumes/{name}`.
pub fn inspect_path(name: &str) -> Result<String, String> {
    Ok(format!("/volumes/{}", encode_id(trim_name(name)?)))
}

pub async fn inspect(g: &GlobalOptions, args: InspectArgs) -> Result<ExitCode> {
    check_inspect_format(args.format.as_deref())?;
    let mut client = g.client()?;
    let (mut found, mut errors) = (Vec::new(), Vec::new());
    for name in &args.volumes {
        let path = match inspect_path(name) {
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
    fn paths_are_trimmed_and_escaped() {
        assert_eq!(inspect_path(" v1 ").unwrap(), "/volumes/v1");
        assert_eq!(inspect_path("a b").unwrap(), "/volumes/a%20b");
        assert_eq!(
            inspect_path(" ").unwrap_err(),
            "invalid volume name or ID: value is empty"
        );
    }
}
