//! The state commands: `start`, `stop`, `kill`, `restart`, `pause`, `unpause`, `wait`,
//! `rename`, `rm` and `container prune`. Each prints the names it acted on in order and
//! reports every failure, as docker does (exit 1 if any failed).

use std::process::ExitCode;

use anyhow::Result;
use berth_api::{ApiVersion, Filters};
use berth_client::{Client, ClientError};
use clap::ArgAction;
use futures_util::future::join_all;
use http::{Method, StatusCode};
use serde_json::Value;

use super::resize::{self, Target};
use super::run::{attach_and_stream, exit_status_task, exit_with};
use super::status::StatusError;
use super::stream::{StreamEnd, StreamOptions};
use super::wait::{status_of, wait_request, WaitResult};
use super::{encode_id, inspect_container, signals, tty, values};
use crate::cli::query::Query;
use crate::cli::units::human_size_precision;
use crate::cli::GlobalOptions;

/// Ends with the failures joined, one per line, as Go's `errors.Join`.
fn joined(errors: Vec<String>) -> Result<ExitCode> {
    if errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(StatusError::new(errors.join("\n"), 1).into())
    }
}

/// Runs `op` on every container at once and prints each name that succeeded, in order.
async fn for_each_parallel<F, Fut>(
    client: &Client,
    containers: &[String],
    op: F,
) -> Result<ExitCode>
where
    F: Fn(Client, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), ClientError>>,
{
    let results = join_all(containers.iter().map(|c| op(client.clone(), c.clone()))).await;
    let mut errors = Vec::new();
    for (name, r) in containers.iter().zip(results) {
        match r {
            Ok(()) => println!("{name}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    joined(errors)
}

async fn post(mut client: Client, path: String) -> Result<(), ClientError> {
    client.request(Method::POST, &path, None).await.map(drop)
}

#[derive(clap::Args, Debug)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short = 'i', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Restore from this checkpoint
    #[arg(long, hide = true)]
    pub checkpoint: Option<String>,
    /// Use a custom checkpoint storage directory
    #[arg(long = "checkpoint-dir", hide = true)]
    pub checkpoint_dir: Option<String>,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

pub async fn start(g: &GlobalOptions, args: StartArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    if !(args.attach || args.interactive) {
        let mut failed = Vec::new();
        for c in &args.containers {
            let path = format!("/containers/{}/start", encode_id(c));
            match client.request(Method::POST, &path, None).await {
                Ok(_) => println!("{c}"),
                Err(e) => {
                    eprintln!("{e}");
                    failed.push(c.clone());
                }
            }
        }
        if failed.is_empty() {
            return Ok(ExitCode::SUCCESS);
        }
        anyhow::bail!("Error: failed to start containers: {}", failed.join(", "));
    }
    if args.containers.len() > 1 {
        anyhow::bail!("you cannot start and attach multiple containers at once");
    }
    let c = inspect_container(&mut client, &args.containers[0]).await?;
    let id = c["Id"].as_str().unwrap_or_default().to_owned();
    let tty = c["Config"]["Tty"].as_bool().unwrap_or(false);
    let _forwarding = if tty {
        Vec::new()
    } else {
        signals::forward_all(&client, &id)
    };
    let streams = StreamOptions {
        stdin: args.interactive && c["Config"]["OpenStdin"].as_bool().unwrap_or(false),
        stdout: true,
        stderr: true,
        tty,
        detach_keys: args.detach_keys.clone(),
    };
    let streaming = attach_and_stream(&mut client, &id, streams).await?;
    let auto_remove = c["HostConfig"]["AutoRemove"].as_bool().unwrap_or(false);
    let status = exit_status_task(&mut client, &id, auto_remove).await;
    let started = client
        .request(
            Method::POST,
            &format!("/containers/{}/start", encode_id(&id)),
            None,
        )
        .await;
    if let Err(e) = started {
        streaming.abort();
        let _ = streaming.await;
        if auto_remove {
            let _ = status.await;
        }
        return Err(e.into());
    }
    if tty && tty::stdout_is_terminal() {
        resize::monitor(&client, Target::Container, &id);
    }
    match streaming.await {
        Ok(Ok(StreamEnd::Detached)) => return Ok(ExitCode::SUCCESS),
        Ok(Err(e)) => return Err(e),
        _ => {}
    }
    exit_with(status_of(status).await)
}

/// `-t/--timeout`, with the deprecated `--time`.
#[derive(clap::Args, Debug)]
pub struct StopTimeout {
    /// Signal to send to the container
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    /// Seconds to wait before killing the container
    #[arg(short = 't', long, value_parser = values::go_int, allow_hyphen_values = true)]
    pub timeout: Option<i64>,
    /// Seconds to wait before killing the container (deprecated: use --timeout)
    #[arg(long, value_parser = values::go_int, allow_hyphen_values = true, hide = true)]
    pub time: Option<i64>,
}

impl StopTimeout {
    fn query(&self, version: ApiVersion) -> Result<Query> {
        if self.time.is_some() && self.timeout.is_some() {
            anyhow::bail!("conflicting options: cannot specify both --timeout and --time");
        }
        if self.time.is_some() {
            println!("Flag --time has been deprecated, use --timeout instead");
        }
        let mut q = Query::new();
        if let Some(t) = self.timeout.or(self.time) {
            q.push("t", &t.to_string());
        }
        if let Some(s) = self.signal.as_deref().filter(|s| !s.is_empty()) {
            if version >= ApiVersion::new(1, 42) {
                q.push("signal", s);
            }
        }
        Ok(q)
    }
}

#[derive(clap::Args, Debug)]
pub struct StopArgs {
    #[command(flatten)]
    pub timeout: StopTimeout,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

pub async fn stop(g: &GlobalOptions, args: StopArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let version = client.negotiate().await?;
    let q = args.timeout.query(version)?;
    for_each_parallel(&client, &args.containers, |c, id| {
        post(c, q.path(&format!("/containers/{}/stop", encode_id(&id))))
    })
    .await
}

#[derive(clap::Args, Debug)]
pub struct RestartArgs {
    #[command(flatten)]
    pub timeout: StopTimeout,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

pub async fn restart(g: &GlobalOptions, args: RestartArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let version = client.negotiate().await?;
    let q = args.timeout.query(version)?;
    let mut errors = Vec::new();
    for c in &args.containers {
        let path = q.path(&format!("/containers/{}/restart", encode_id(c)));
        match client.request(Method::POST, &path, None).await {
            Ok(_) => println!("{c}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    joined(errors)
}

#[derive(clap::Args, Debug)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

pub async fn kill(g: &GlobalOptions, args: KillArgs) -> Result<ExitCode> {
    let client = g.client()?;
    let mut q = Query::new();
    if let Some(s) = args.signal.as_deref().filter(|s| !s.is_empty()) {
        q.push("signal", s);
    }
    for_each_parallel(&client, &args.containers, |c, id| {
        post(c, q.path(&format!("/containers/{}/kill", encode_id(&id))))
    })
    .await
}

#[derive(clap::Args, Debug)]
pub struct PauseArgs {
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

pub async fn pause(g: &GlobalOptions, args: PauseArgs, action: &str) -> Result<ExitCode> {
    let client = g.client()?;
    for_each_parallel(&client, &args.containers, |c, id| {
        post(c, format!("/containers/{}/{action}", encode_id(&id)))
    })
    .await
}

#[derive(clap::Args, Debug)]
pub struct WaitArgs {
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

pub async fn wait(g: &GlobalOptions, args: WaitArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let mut errors = Vec::new();
    for c in &args.containers {
        match wait_request(&mut client, c, None).await {
            Ok(task) => match task.await {
                Ok(WaitResult::Exited(code)) => println!("{code}"),
                Ok(WaitResult::Failed(msg)) => errors.push(msg),
                Err(e) => errors.push(e.to_string()),
            },
            Err(e) => errors.push(e.to_string()),
        }
    }
    joined(errors)
}

#[derive(clap::Args, Debug)]
pub struct RenameArgs {
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    #[arg(value_name = "NEW_NAME")]
    pub new_name: String,
}

pub async fn rename(g: &GlobalOptions, args: RenameArgs) -> Result<ExitCode> {
    let (old, new) = (args.container.trim(), args.new_name.trim());
    if old.is_empty() || new.is_empty() {
        anyhow::bail!("Error: Neither old nor new names may be empty");
    }
    let mut client = g.client()?;
    let mut q = Query::new();
    q.push("name", new);
    let path = q.path(&format!("/containers/{}/rename", encode_id(old)));
    if let Err(e) = client.request(Method::POST, &path, None).await {
        eprintln!("{e}");
        anyhow::bail!("Error: failed to rename container named {old}");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Args, Debug)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub force: bool,
    /// Remove the specified link
    #[arg(short = 'l', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub link: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub volumes: bool,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

pub async fn rm(g: &GlobalOptions, args: RmArgs) -> Result<ExitCode> {
    let client = g.client()?;
    let mut q = Query::new();
    if args.volumes {
        q.push("v", "1");
    }
    if args.link {
        q.push("link", "1");
    }
    if args.force {
        q.push("force", "1");
    }
    let force = args.force;
    let results = join_all(args.containers.iter().map(|name| {
        let mut client = client.clone();
        let id = name.trim_matches('/').to_owned();
        let path = q.path(&format!("/containers/{}", encode_id(&id)));
        async move {
            if id.is_empty() {
                return Err("container name cannot be empty".to_owned());
            }
            match client.request(Method::DELETE, &path, None).await {
                Ok(_) => Ok(()),
                Err(
                    e @ ClientError::Daemon {
                        status: StatusCode::NOT_FOUND,
                        ..
                    },
                ) if force => {
                    // Forced removal of something already gone is not a failure.
                    eprintln!("{e}");
                    Err(String::new())
                }
                Err(e) => Err(e.to_string()),
            }
        }
    }))
    .await;
    let mut errors = Vec::new();
    for (name, r) in args.containers.iter().zip(results) {
        match r {
            Ok(()) => println!("{name}"),
            Err(e) if e.is_empty() => {}
            Err(e) => errors.push(e),
        }
    }
    joined(errors)
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub force: bool,
    /// Provide filter values (e.g. "until=<timestamp>")
    #[arg(long = "filter", value_parser = values::filter)]
    pub filters: Vec<String>,
}

pub async fn prune(g: &GlobalOptions, args: PruneArgs) -> Result<ExitCode> {
    let filters = Filters::from_cli_args(args.filters.iter().map(String::as_str))
        .map_err(anyhow::Error::msg)?;
    if !args.force && !crate::cli::confirm("WARNING! This will remove all stopped containers.")? {
        return Ok(ExitCode::SUCCESS);
    }
    let mut q = Query::new();
    if !filters.is_empty() {
        q.push("filters", &filters.to_json());
    }
    let mut client = g.client()?;
    let res = client
        .request(Method::POST, &q.path("/containers/prune"), None)
        .await?;
    let report: Value = serde_json::from_slice(&berth_client::read_body(res).await?)
        .map_err(|e| anyhow::anyhow!("Error retrieving disk usage: {e}"))?;
    let deleted: Vec<&str> = report["ContainersDeleted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut reclaimed = 0.0;
    if !deleted.is_empty() {
        println!("Deleted Containers:");
        for id in &deleted {
            println!("{id}");
        }
        println!();
        reclaimed = report["SpaceReclaimed"].as_f64().unwrap_or(0.0);
    }
    println!(
        "Total reclaimed space: {}",
        human_size_precision(reclaimed, 4)
    );
    Ok(ExitCode::SUCCESS)
}
