//! Command-line parsing and one module per command. Client commands build a request, call
//! the API through `berth-client`, and print the result as the docker CLI would.

mod container;
mod df;
mod events;
mod global;
mod images;
mod info;
mod natural;
mod network;
mod output;
mod progress;
mod prune;
mod query;
mod timestamp;
mod units;
mod usage;
mod version;
mod volume;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};
use container::ContainerCommand;

pub use global::GlobalOptions;

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    version,
    about = "A Docker-compatible container engine",
    disable_help_subcommand = true
)]
pub struct CliArgs {
    #[command(flatten)]
    pub global: GlobalOptions,
    #[command(subcommand)]
    pub command: Command,
}

/// The parsed command line. Its [`Parser::parse`] reports mistakes in the docker CLI's
/// words and exit statuses (125 for flags, 1 for arguments) instead of clap's.
pub struct Cli(pub CliArgs);

impl clap::CommandFactory for Cli {
    fn command() -> clap::Command {
        CliArgs::command()
    }

    fn command_for_update() -> clap::Command {
        CliArgs::command_for_update()
    }
}

impl clap::FromArgMatches for Cli {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        CliArgs::from_arg_matches(matches).map(Cli)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.0.update_from_arg_matches(matches)
    }
}

impl Parser for Cli {
    fn parse() -> Self {
        match Self::try_parse() {
            Ok(cli) => cli,
            Err(e) => usage::exit(e),
        }
    }
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
    /// Manage containers
    #[command(subcommand)]
    Container(container::ContainerCommand),
    /// Create and run a new container from an image
    Run(container::RunArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(container::CpArgs),
    /// Create a new image from a container's changes
    Commit(container::CommitArgs),
    /// Create a new container
    Create(container::CreateArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(container::DiffArgs),
    /// Export a container's filesystem as a tar archive
    Export(container::ExportArgs),
    /// Start one or more stopped containers
    Start(container::StartArgs),
    /// Stop one or more running containers
    Stop(container::StopArgs),
    /// Kill one or more running containers
    Kill(container::KillArgs),
    /// Restart one or more containers
    Restart(container::RestartArgs),
    /// Pause all processes within one or more containers
    Pause(container::PauseArgs),
    /// Unpause all processes within one or more containers
    Unpause(container::PauseArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(container::WaitArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(container::AttachArgs),
    /// Fetch the logs of a container
    Logs(container::LogsArgs),
    /// Execute a command in a running container
    Exec(container::ExecArgs),
    /// Rename a container
    Rename(container::RenameArgs),
    /// Update configuration of one or more containers
    Update(container::UpdateArgs),
    /// Display the running processes of a container
    Top(container::TopArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(container::StatsArgs),
    /// Return low-level information on Docker objects
    Inspect(container::InspectArgs),
    /// List containers
    Ps(container::PsArgs),
    /// Remove one or more containers
    Rm(container::RmArgs),
    /// List port mappings or a specific mapping for the container
    Port(container::PortArgs),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
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
    /// Remove unused data
    Prune(prune::PruneArgs),
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    let cli = cli.0;
    if let Command::Daemon(args) = cli.command {
        berth_daemon::run(args)?;
        return Ok(ExitCode::SUCCESS);
    }
    // A client command: one request or stream at a time, so one thread is plenty and
    // starts fastest.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async move {
        let g = &cli.global;
        match cli.command {
            Command::Daemon(_) => unreachable!("handled above"),
            Command::Version(a) => version::run(g, a).await,
            Command::Info(a) | Command::System(SystemCommand::Info(a)) => info::run(g, a).await,
            Command::Events(a) | Command::System(SystemCommand::Events(a)) => {
                events::run(g, a).await
            }
            Command::System(SystemCommand::Df(a)) => df::run(g, a).await,
            Command::System(SystemCommand::Prune(a)) => prune::run(g, a).await,
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
            Command::Container(c) => container::dispatch(g, c).await,
            Command::Run(a) => container::dispatch(g, ContainerCommand::Run(a)).await,
            Command::Cp(a) => container::dispatch(g, ContainerCommand::Cp(a)).await,
            Command::Commit(a) => container::dispatch(g, ContainerCommand::Commit(a)).await,
            Command::Create(a) => container::dispatch(g, ContainerCommand::Create(a)).await,
            Command::Diff(a) => container::dispatch(g, ContainerCommand::Diff(a)).await,
            Command::Export(a) => container::dispatch(g, ContainerCommand::Export(a)).await,
            Command::Start(a) => container::dispatch(g, ContainerCommand::Start(a)).await,
            Command::Stop(a) => container::dispatch(g, ContainerCommand::Stop(a)).await,
            Command::Kill(a) => container::dispatch(g, ContainerCommand::Kill(a)).await,
            Command::Restart(a) => container::dispatch(g, ContainerCommand::Restart(a)).await,
            Command::Pause(a) => container::dispatch(g, ContainerCommand::Pause(a)).await,
            Command::Unpause(a) => container::dispatch(g, ContainerCommand::Unpause(a)).await,
            Command::Wait(a) => container::dispatch(g, ContainerCommand::Wait(a)).await,
            Command::Attach(a) => container::dispatch(g, ContainerCommand::Attach(a)).await,
            Command::Logs(a) => container::dispatch(g, ContainerCommand::Logs(a)).await,
            Command::Exec(a) => container::dispatch(g, ContainerCommand::Exec(a)).await,
            Command::Rename(a) => container::dispatch(g, ContainerCommand::Rename(a)).await,
            Command::Update(a) => container::dispatch(g, ContainerCommand::Update(a)).await,
            Command::Top(a) => container::dispatch(g, ContainerCommand::Top(a)).await,
            Command::Stats(a) => container::dispatch(g, ContainerCommand::Stats(a)).await,
            Command::Ps(a) => container::dispatch(g, ContainerCommand::Ls(a)).await,
            Command::Rm(a) => container::dispatch(g, ContainerCommand::Rm(a)).await,
            Command::Port(a) => container::dispatch(g, ContainerCommand::Port(a)).await,
            Command::Inspect(a) => container::inspect_any(g, a).await,
            Command::Network(c) => network::dispatch(g, c).await,
            Command::Volume(c) => volume::dispatch(g, c).await,
        }
    });
    // Nothing may keep the process alive once the command is done: a blocked read of the
    // terminal, say, or a signal-forwarding task.
    runtime.shutdown_background();
    with_status(result)
}

/// docker's `StatusError`: its message (if any) goes to stderr, its status is the exit.
fn with_status(result: Result<ExitCode>) -> Result<ExitCode> {
    match result {
        Err(e) => match e.downcast_ref::<container::status::StatusError>() {
            Some(s) => {
                if !s.message.is_empty() {
                    eprintln!("{}", s.message);
                }
                Ok(ExitCode::from(s.code))
            }
            None => Err(e),
        },
        ok => ok,
    }
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
