//! `berth volume …`: create, list, inspect, remove and prune, as the docker CLI has them —
//! same flags, bodies, tables and messages — and the volume parts of `system df`.

mod create;
pub mod df;
mod inspect;
mod list;
mod remove;

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;

use super::GlobalOptions;

#[derive(Subcommand, Debug)]
pub enum VolumeCommand {
    /// Create a volume
    Create(create::CreateArgs),
    /// Display detailed information on one or more volumes
    Inspect(inspect::InspectArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(list::ListArgs),
    /// Remove unused local volumes
    Prune(remove::PruneArgs),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(remove::RemoveArgs),
}

pub async fn dispatch(g: &GlobalOptions, cmd: VolumeCommand) -> Result<ExitCode> {
    match cmd {
        VolumeCommand::Create(a) => create::create(g, a).await,
        VolumeCommand::Inspect(a) => inspect::inspect(g, a).await,
        VolumeCommand::Ls(a) => list::list(g, a).await,
        VolumeCommand::Prune(a) => remove::prune(g, a).await,
        VolumeCommand::Rm(a) => remove::remove(g, a).await,
    }
}

/// The Go client's `trimID("volume", …)`: the name without surrounding space, not empty.
pub fn trim_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("invalid volume name or ID: value is empty".into());
    }
    Ok(name)
}
