//! Container commands, as the docker CLI has them: `run`, `create`, the lifecycle
//! commands, `attach`, `exec`, `logs`, `ps`, `inspect`, `stats`, `top`, `update`, `rm`,
//! `prune`, `port`, and the `container` group that holds them all.

mod attach;
mod commit;
mod config;
mod cp;
mod cp_local;
mod create;
mod diff;
mod exec;
mod export;
mod inspect;
mod kvfile;
mod lifecycle;
mod list;
mod logs;
mod mounts;
mod network;
mod opts;
mod port;
mod ports;
mod resize;
mod run;
mod signals;
mod stats;
pub mod status;
mod stream;
mod top;
mod tty;
mod update;
pub mod values;
mod wait;

use std::process::ExitCode;

use anyhow::Result;
use berth_client::{Client, ClientError};
use clap::Subcommand;
use serde_json::Value;

pub use attach::AttachArgs;
pub use commit::CommitArgs;
pub use cp::CpArgs;
pub use create::CreateArgs;
pub use diff::DiffArgs;
pub use exec::ExecArgs;
pub use export::ExportArgs;
pub use inspect::{
    check_format as check_inspect_format, finish as finish_inspect, ContainerInspectArgs,
    InspectArgs,
};
pub use lifecycle::{
    KillArgs, PauseArgs, PruneArgs, RenameArgs, RestartArgs, RmArgs, StartArgs, StopArgs, WaitArgs,
};
pub use list::{label_method, row as container_row, PsArgs, HEADERS as CONTAINER_HEADERS};
pub use logs::LogsArgs;
pub use port::PortArgs;
pub use run::RunArgs;
pub use stats::StatsArgs;
pub use top::TopArgs;
pub use update::UpdateArgs;

use super::GlobalOptions;

/// `berth container …`.
#[derive(Subcommand, Debug)]
pub enum ContainerCommand {
    /// Attach local standard input, output, and error streams to a running container
    Attach(AttachArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(CpArgs),
    /// Create a new image from a container's changes
    Commit(CommitArgs),
    /// Create a new container
    Create(CreateArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(DiffArgs),
    /// Execute a command in a running container
    Exec(ExecArgs),
    /// Export a container's filesystem as a tar archive
    Export(ExportArgs),
    /// Display detailed information on one or more containers
    Inspect(ContainerInspectArgs),
    /// Kill one or more running containers
    Kill(KillArgs),
    /// Fetch the logs of a container
    Logs(LogsArgs),
    /// List containers
    #[command(visible_aliases = ["ps", "list"])]
    Ls(PsArgs),
    /// Pause all processes within one or more containers
    Pause(PauseArgs),
    /// List port mappings or a specific mapping for the container
    Port(PortArgs),
    /// Remove all stopped containers
    Prune(PruneArgs),
    /// Rename a container
    Rename(RenameArgs),
    /// Restart one or more containers
    Restart(RestartArgs),
    /// Remove one or more containers
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
    /// Create and run a new container from an image
    Run(RunArgs),
    /// Start one or more stopped containers
    Start(StartArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(StatsArgs),
    /// Stop one or more running containers
    Stop(StopArgs),
    /// Display the running processes of a container
    Top(TopArgs),
    /// Unpause all processes within one or more containers
    Unpause(PauseArgs),
    /// Update configuration of one or more containers
    Update(UpdateArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(WaitArgs),
}

pub async fn dispatch(g: &GlobalOptions, cmd: ContainerCommand) -> Result<ExitCode> {
    match cmd {
        ContainerCommand::Attach(a) => attach::attach(g, a).await,
        ContainerCommand::Cp(a) => cp::cp(g, a).await,
        ContainerCommand::Commit(a) => commit::commit(g, a).await,
        ContainerCommand::Create(a) => create::create(g, a).await,
        ContainerCommand::Diff(a) => diff::diff(g, a).await,
        ContainerCommand::Exec(a) => exec::exec(g, a).await,
        ContainerCommand::Export(a) => export::export(g, a).await,
        ContainerCommand::Inspect(a) => inspect::container_inspect(g, a).await,
        ContainerCommand::Kill(a) => lifecycle::kill(g, a).await,
        ContainerCommand::Logs(a) => logs::logs(g, a).await,
        ContainerCommand::Ls(a) => list::ps(g, a).await,
        ContainerCommand::Pause(a) => lifecycle::pause(g, a, "pause").await,
        ContainerCommand::Port(a) => port::port(g, a).await,
        ContainerCommand::Prune(a) => lifecycle::prune(g, a).await,
        ContainerCommand::Rename(a) => lifecycle::rename(g, a).await,
        ContainerCommand::Restart(a) => lifecycle::restart(g, a).await,
        ContainerCommand::Rm(a) => lifecycle::rm(g, a).await,
        ContainerCommand::Run(a) => run::run(g, a).await,
        ContainerCommand::Start(a) => lifecycle::start(g, a).await,
        ContainerCommand::Stats(a) => stats::stats(g, a).await,
        ContainerCommand::Stop(a) => lifecycle::stop(g, a).await,
        ContainerCommand::Top(a) => top::top(g, a).await,
        ContainerCommand::Unpause(a) => lifecycle::pause(g, a, "unpause").await,
        ContainerCommand::Update(a) => update::update(g, a).await,
        ContainerCommand::Wait(a) => lifecycle::wait(g, a).await,
    }
}

pub async fn inspect_any(g: &GlobalOptions, a: InspectArgs) -> Result<ExitCode> {
    inspect::inspect(g, a).await
}

/// A container name or ID as one path segment.
pub fn encode_id(id: &str) -> String {
    super::images::encode_path(id.trim())
}

/// `GET /containers/{name}/json`.
pub async fn inspect_container(client: &mut Client, name: &str) -> Result<Value, ClientError> {
    client
        .get_json(&format!("/containers/{}/json", encode_id(name)))
        .await
}
