//! `run`: create, attach before starting (so no output is missed), wait for the exit
//! (also registered before the start), start, then stream until the container is done
//! and exit with its status — docker/cli's `runContainer`.

use std::process::ExitCode;

use anyhow::Result;
use berth_client::Client;
use clap::ArgAction;
use http::Method;
use serde_json::json;

use super::create::{check_flag_versions, create_container, parse_request};
use super::opts::ContainerOptions;
use super::resize::{self, Target};
use super::status::{run_failure, StatusError};
use super::stream::{stream, StreamEnd, StreamOptions};
use super::wait::{exit_status, status_of, wait_request, WaitResult};
use super::{encode_id, signals, tty, values};
use crate::cli::query::Query;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
#[command(
    disable_help_flag = true,
    override_usage = "berth run [OPTIONS] IMAGE [COMMAND] [ARG...]"
)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short = 'd', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub detach: bool,
    /// Proxy received signals to the process
    #[arg(long = "sig-proxy", num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", action = ArgAction::Set, value_parser = values::go_bool)]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    #[command(flatten)]
    pub opts: ContainerOptions,
}

/// The attach query docker sends for `run`, `start -a` and `attach`.
pub fn attach_path(id: &str, s: &StreamOptions) -> String {
    let mut q = Query::new();
    if let Some(k) = s.detach_keys.as_deref().filter(|k| !k.is_empty()) {
        q.push("detachKeys", k);
    }
    if s.stderr {
        q.push("stderr", "1");
    }
    if s.stdin {
        q.push("stdin", "1");
    }
    if s.stdout {
        q.push("stdout", "1");
    }
    q.push("stream", "1");
    q.path(&format!("/containers/{}/attach", encode_id(id)))
}

/// Attaches and starts streaming in the background.
pub async fn attach_and_stream(
    client: &mut Client,
    id: &str,
    s: StreamOptions,
) -> Result<tokio::task::JoinHandle<Result<StreamEnd>>, berth_client::ClientError> {
    let (_, conn) = client
        .hijack(Method::POST, &attach_path(id, &s), None)
        .await?;
    Ok(tokio::spawn(async move { stream(conn, &s).await }))
}

/// Registers the wait; a failure to do so ends up as status 125, as in docker.
pub async fn exit_status_task(
    client: &mut Client,
    id: &str,
    auto_remove: bool,
) -> tokio::task::JoinHandle<WaitResult> {
    let condition = if auto_remove { "removed" } else { "next-exit" };
    match wait_request(client, id, Some(condition)).await {
        Ok(task) => task,
        Err(e) => {
            let msg = e.to_string();
            tokio::spawn(async move { WaitResult::Failed(msg) })
        }
    }
}

/// An exit status as the command's result.
pub fn exit_with(status: i64) -> Result<ExitCode> {
    if status == 0 {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(StatusError::exit(status).into())
    }
}

pub async fn run(g: &GlobalOptions, args: RunArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let version = client.negotiate().await?;
    check_flag_versions(&args.opts, version).map_err(anyhow::Error::msg)?;
    let mut req = parse_request(&args.opts, "run")?;
    let tty = args.opts.tty;
    if !args.detach {
        tty::check_tty(req.config_bool("AttachStdin"), tty)?;
    } else {
        if !args.opts.attach.is_empty() {
            anyhow::bail!("conflicting options: cannot specify both --attach and --detach");
        }
        for key in ["AttachStdin", "AttachStdout", "AttachStderr", "StdinOnce"] {
            req.set_config(key, json!(false));
        }
    }
    let id = create_container(&mut client, &mut req, &args.opts)
        .await
        .map_err(|e| run_failure(&e))?;
    let _forwarding = if args.sig_proxy {
        signals::forward_all(&client, &id)
    } else {
        vec![signals::survive_first_termination()]
    };

    let streams = StreamOptions {
        stdin: req.config_bool("AttachStdin"),
        stdout: req.config_bool("AttachStdout"),
        stderr: req.config_bool("AttachStderr"),
        tty,
        detach_keys: args.detach_keys.clone(),
    };
    let attach = streams.stdin || streams.stdout || streams.stderr;
    if !attach {
        println!("{id}");
    }
    let mut streaming = if attach {
        Some(attach_and_stream(&mut client, &id, streams.clone()).await?)
    } else {
        None
    };
    let auto_remove = req.auto_remove();
    let mut status = exit_status_task(&mut client, &id, auto_remove).await;

    let started = client
        .request(
            Method::POST,
            &format!("/containers/{}/start", encode_id(&id)),
            None,
        )
        .await;
    if let Err(e) = started {
        if let Some(s) = streaming.take() {
            s.abort();
            let _ = s.await;
        }
        if auto_remove {
            let _ = status.await;
        }
        return Err(run_failure(&e.to_string()).into());
    }
    let Some(mut streaming) = streaming else {
        return Ok(ExitCode::SUCCESS);
    };
    if tty && tty::stdout_is_terminal() {
        resize::monitor(&client, Target::Container, &id);
    }

    tokio::select! {
        end = &mut streaming => {
            match end {
                Ok(Ok(StreamEnd::Detached)) => Ok(ExitCode::SUCCESS),
                Ok(Err(e)) => Err(e),
                Ok(Ok(StreamEnd::Finished)) | Err(_) => exit_with(status_of(status).await),
            }
        }
        result = &mut status => {
            let code = exit_status(result);
            // The output may still be draining; without it there is nothing to wait for.
            if !streams.stdout && !streams.stderr {
                streaming.abort();
            }
            let _ = streaming.await;
            exit_with(code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_query_names_the_streams() {
        let s = StreamOptions {
            stdin: true,
            stdout: true,
            stderr: false,
            tty: false,
            detach_keys: Some("ctrl-a,a".into()),
        };
        assert_eq!(
            attach_path("abc", &s),
            "/containers/abc/attach?detachKeys=ctrl-a%2Ca&stdin=1&stdout=1&stream=1"
        );
    }
}
