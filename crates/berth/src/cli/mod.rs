//! Command-line parsing and one module per command. Client commands build a request, call
//! the API through `berth-client`, and print the result as the docker CLI would.

mod events;
mod global;
mod info;
mod output;
mod timestamp;
mod version;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

pub use global::GlobalOptions;

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    version,
    about = "A Docker-compatible container engine",
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the Berth daemon (the Engine API server)
    Daemon(berth_daemon::DaemonArgs),
    /// Show the Berth version information
    Version(version::VersionArgs),
    /// Display system-wide information
    Info(info::InfoArgs),
    /// Get real time events from the server
    Events(events::EventsArgs),
    /// Manage Berth
    #[command(subcommand)]
    System(SystemCommand),
}

#[derive(Subcommand, Debug)]
pub enum SystemCommand {
    /// Display system-wide information
    Info(info::InfoArgs),
    /// Get real time events from the server
    Events(events::EventsArgs),
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    if let Command::Daemon(args) = cli.command {
        berth_daemon::run(args)?;
        return Ok(ExitCode::SUCCESS);
    }
    // A client command: one request or stream at a time, so one thread is plenty and
    // starts fastest.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let g = &cli.global;
        match cli.command {
            Command::Daemon(_) => unreachable!("handled above"),
            Command::Version(a) => version::run(g, a).await,
            Command::Info(a) | Command::System(SystemCommand::Info(a)) => info::run(g, a).await,
            Command::Events(a) | Command::System(SystemCommand::Events(a)) => {
                events::run(g, a).await
            }
        }
    })
}
