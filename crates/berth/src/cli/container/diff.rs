//! `diff CONTAINER`: the changes to a container's filesystem, one `C|A|D PATH` per line in
//! the daemon's order, as docker prints them.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::Value;

use super::encode_id;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// The letter docker prints for an API change kind.
fn letter(kind: i64) -> &'static str {
    match kind {
        0 => "C",
        1 => "A",
        2 => "D",
        _ => "",
    }
}

pub async fn diff(g: &GlobalOptions, args: DiffArgs) -> Result<ExitCode> {
    if args.container.is_empty() {
        anyhow::bail!("Container name cannot be empty");
    }
    let mut client = g.client()?;
    let changes: Value = client
        .get_json(&format!(
            "/containers/{}/changes",
            encode_id(&args.container)
        ))
        .await?;
    let mut out = std::io::stdout().lock();
    for c in changes.as_array().into_iter().flatten() {
        writeln!(
            out,
            "{} {}",
            letter(c["Kind"].as_i64().unwrap_or(-1)),
            c["Path"].as_str().unwrap_or_default()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
