//! `attach`: connect the local terminal to a running container's streams and exit with
//! its status (docker/cli's `RunAttach`).

use std::process::ExitCode;

use anyhow::Result;
use clap::ArgAction;
use http::Method;
use serde_json::Value;

use super::resize::{self, Target};
use super::run::{attach_path, exit_with};
use super::stream::{stream, StreamEnd, StreamOptions};
use super::wait::{wait_request, WaitResult};
use super::{inspect_container, signals, tty, values};
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long = "no-stdin", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long = "sig-proxy", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", action = ArgAction::Set, value_parser = values::go_bool)]
    pub sig_proxy: bool,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// Refuses containers that cannot be attached to, in docker's words.
pub fn check_state(c: &Value) -> Result<()> {
    let state = &c["State"];
    if !state["Running"].as_bool().unwrap_or(false) {
        anyhow::bail!("You cannot attach to a stopped container, start it first");
    }
    if state["Paused"].as_bool().unwrap_or(false) {
        anyhow::bail!("You cannot attach to a paused container, unpause it first");
    }
    if state["Restarting"].as_bool().unwrap_or(false) {
        anyhow::bail!("You cannot attach to a restarting container, wait until it is running");
    }
    Ok(())
}

pub async fn attach(g: &GlobalOptions, args: AttachArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let c = inspect_container(&mut client, &args.container).await?;
    check_state(&c)?;
    let id = c["Id"].as_str().unwrap_or_default().to_owned();
    let tty = c["Config"]["Tty"].as_bool().unwrap_or(false);
    tty::check_tty(!args.no_stdin, tty)?;
    let exit = wait_request(&mut client, &id, None).await?;
    let streams = StreamOptions {
        stdin: !args.no_stdin && c["Config"]["OpenStdin"].as_bool().unwrap_or(false),
        stdout: true,
        stderr: true,
        tty,
        detach_keys: args.detach_keys.clone(),
    };
    let _forwarding = if args.sig_proxy && !tty {
        signals::forward_all(&client, &id)
    } else {
        Vec::new()
    };
    let (_, conn) = client
        .hijack(Method::POST, &attach_path(&id, &streams), None)
        .await?;
    check_state(&inspect_container(&mut client, &id).await?)?;
    if tty && tty::stdout_is_terminal() {
        // One size off first, so the process sees a change and redraws.
        let (h, w) = tty::size();
        let _ = resize::resize_to(&mut client, Target::Container, &id, h + 1, w + 1).await;
        resize::monitor(&client, Target::Container, &id);
    }
    if stream(conn, &streams).await? == StreamEnd::Detached {
        anyhow::bail!("read escape sequence");
    }
    match exit.await? {
        WaitResult::Exited(code) => exit_with(code),
        WaitResult::Failed(msg) => Err(anyhow::Error::msg(msg)),
    }
}
