//! Command-line parsing and one module per command. Client commands build a request, call
//! the API through `berth-client`, and print the result as the docker CLI would.

mod df;
mod events;
mod global;
mod images;
mod info;
mod output;
mod progress;
mod query;
mod timestamp;
mod units;
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
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// List images
    Images(images::ListArgs),
    /// Show the history of an image
    History(images::HistoryArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(images::TagArgs),
    /// Remove one or more images
    Rmi(images::RemoveArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(images::ImportArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(images::SaveArgs),
    /// Load an image from a tar archive or STDIN
    Load(images::LoadArgs),
}

#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// List images
    #[command(visible_alias = "list")]
    Ls(images::ListArgs),
    /// Display detailed information on one or more images
    Inspect(images::InspectArgs),
    /// Show the history of an image
    History(images::HistoryArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(images::TagArgs),
    /// Remove one or more images
    #[command(visible_alias = "remove")]
    Rm(images::RemoveArgs),
    /// Remove unused images
    Prune(images::PruneArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(images::ImportArgs),
    /// Save one or more images to a tar archive
    Save(images::SaveArgs),
    /// Load an image from a tar archive or STDIN
    Load(images::LoadArgs),
}

#[derive(Subcommand, Debug)]
pub enum SystemCommand {
    /// Display system-wide information
    Info(info::InfoArgs),
    /// Get real time events from the server
    Events(events::EventsArgs),
    /// Show docker disk usage
    Df(df::DfArgs),
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
            Command::System(SystemCommand::Df(a)) => df::run(g, a).await,
            Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => images::list(g, a).await,
            Command::Image(ImageCommand::Inspect(a)) => images::inspect(g, a).await,
            Command::History(a) | Command::Image(ImageCommand::History(a)) => {
                images::history(g, a).await
            }
            Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => images::tag(g, a).await,
            Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => images::remove(g, a).await,
            Command::Image(ImageCommand::Prune(a)) => images::prune(g, a).await,
            Command::Import(a) | Command::Image(ImageCommand::Import(a)) => {
                images::import(g, a).await
            }
            Command::Save(a) | Command::Image(ImageCommand::Save(a)) => images::save(g, a).await,
            Command::Load(a) | Command::Image(ImageCommand::Load(a)) => images::load(g, a).await,
        }
    })
}

/// Docker's `Are you sure you want to continue? [y/N]` prompt.
pub fn confirm(warning: &str) -> Result<bool> {
    use std::io::{BufRead, Write};
    print!("{warning}\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
