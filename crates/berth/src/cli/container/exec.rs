//! `exec`: create an exec instance, then either start it detached or attach to it and
//! stream, and exit with its exit code (docker/cli's `RunExec`).

use std::process::ExitCode;

use anyhow::Result;
use berth_api::ApiVersion;
use berth_client::ClientError;
use clap::ArgAction;
use http::Method;
use serde_json::{json, Map, Value};

use super::kvfile::read_kv_strings;
use super::resize::{self, Target};
use super::run::exit_with;
use super::stream::{stream, StreamEnd, StreamOptions};
use super::{encode_id, inspect_container, tty, values};
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
#[command(override_usage = "berth exec [OPTIONS] CONTAINER COMMAND [ARG...]")]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys")]
    pub detach_keys: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env", value_parser = values::env, allow_hyphen_values = true)]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_file: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub interactive: bool,
    /// Give extended privileges to the command
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub privileged: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub tty: bool,
    /// Username or UID (format: "<name|uid>[:<group|gid>]")
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// The container, then the command and its arguments (flags end at the container).
    #[arg(value_name = "CONTAINER", required = true, num_args = 2.., trailing_var_arg = true)]
    pub container_and_command: Vec<String>,
}

impl ExecArgs {
    fn container(&self) -> &str {
        &self.container_and_command[0]
    }

    fn command(&self) -> &[String] {
        &self.container_and_command[1..]
    }
}

/// The `POST /containers/{id}/exec` body, as docker's `parseExec` builds it.
pub fn exec_config(args: &ExecArgs) -> Result<Value, String> {
    let env = read_kv_strings(&args.env_file, &args.env, true)?;
    let attach = !args.detach;
    let mut m = Map::new();
    m.insert(
        "User".into(),
        json!(args.user.as_deref().unwrap_or_default()),
    );
    m.insert("Privileged".into(), json!(args.privileged));
    m.insert("Tty".into(), json!(args.tty));
    m.insert("AttachStdin".into(), json!(attach && args.interactive));
    m.insert("AttachStderr".into(), json!(attach));
    m.insert("AttachStdout".into(), json!(attach));
    m.insert("Detach".into(), json!(args.detach));
    m.insert(
        "DetachKeys".into(),
        json!(args.detach_keys.as_deref().unwrap_or_default()),
    );
    m.insert(
        "Env".into(),
        if env.is_empty() {
            Value::Null
        } else {
            json!(env)
        },
    );
    m.insert(
        "WorkingDir".into(),
        json!(args.workdir.as_deref().unwrap_or_default()),
    );
    m.insert("Cmd".into(), json!(args.command()));
    Ok(Value::Object(m))
}

pub async fn exec(g: &GlobalOptions, args: ExecArgs) -> Result<ExitCode> {
    let mut config = exec_config(&args).map_err(anyhow::Error::msg)?;
    let mut client = g.client()?;
    inspect_container(&mut client, args.container()).await?;
    if !args.detach {
        tty::check_tty(config["AttachStdin"] == true, args.tty)?;
    }
    let version = client.negotiate().await?;
    let console = if args.tty && version >= ApiVersion::new(1, 42) {
        let (h, w) = tty::size();
        Some(json!([h, w]))
    } else {
        None
    };
    if let Some(c) = &console {
        config["ConsoleSize"] = c.clone();
    }
    let res = client
        .request_json(
            Method::POST,
            &format!("/containers/{}/exec", encode_id(args.container())),
            &config,
        )
        .await?;
    let created: Value = serde_json::from_slice(&berth_client::read_body(res).await?)?;
    let exec_id = created["Id"].as_str().unwrap_or_default().to_owned();
    if exec_id.is_empty() {
        anyhow::bail!("exec ID empty");
    }
    let mut start = json!({"Detach": args.detach, "Tty": args.tty});
    if let Some(c) = console {
        start["ConsoleSize"] = c;
    }
    let start_path = format!("/exec/{}/start", encode_id(&exec_id));
    if args.detach {
        client
            .request_json(Method::POST, &start_path, &start)
            .await?;
        return Ok(ExitCode::SUCCESS);
    }
    let (_, conn) = client
        .hijack(Method::POST, &start_path, Some(start))
        .await?;
    let streams = StreamOptions {
        stdin: config["AttachStdin"] == true,
        stdout: true,
        stderr: true,
        tty: args.tty,
        detach_keys: args.detach_keys.clone(),
    };
    if args.tty && tty::stdin_is_terminal() {
        resize::monitor(&client, Target::Exec, &exec_id);
    }
    if stream(conn, &streams).await? == StreamEnd::Detached {
        anyhow::bail!("read escape sequence");
    }
    let inspect: Result<Value, ClientError> = client
        .get_json(&format!("/exec/{}/json", encode_id(&exec_id)))
        .await;
    match inspect {
        Ok(v) => exit_with(v["ExitCode"].as_i64().unwrap_or(0)),
        Err(ClientError::Connect { .. }) | Err(ClientError::Transport(_)) => exit_with(-1),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        a: ExecArgs,
    }

    fn config(args: &[&str]) -> Value {
        let w = Wrapper::try_parse_from(std::iter::once("exec").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{e}"));
        exec_config(&w.a).unwrap()
    }

    #[test]
    fn exec_body_matches_docker() {
        // What docker 28 sends for `exec -d -e A=1 -u nobody -w /tmp --privileged box sh -c x`.
        let docker: Value = serde_json::from_str(r#"{"User":"nobody","Privileged":true,"Tty":false,"AttachStdin":false,"AttachStderr":false,"AttachStdout":false,"Detach":true,"DetachKeys":"","Env":["A=1"],"WorkingDir":"/tmp","Cmd":["sh","-c","x"]}"#).unwrap();
        assert_eq!(
            config(&[
                "-d",
                "-e",
                "A=1",
                "-u",
                "nobody",
                "-w",
                "/tmp",
                "--privileged",
                "box",
                "sh",
                "-c",
                "x"
            ]),
            docker
        );
        let interactive = config(&["-it", "box", "sh"]);
        assert_eq!(interactive["AttachStdin"], true);
        assert_eq!(interactive["AttachStdout"], true);
        assert_eq!(interactive["Tty"], true);
        assert_eq!(interactive["Env"], Value::Null);
        // Flags after the container belong to the command.
        assert_eq!(config(&["box", "ls", "-l"])["Cmd"], json!(["ls", "-l"]));
        assert_eq!(config(&["box", "-i", "x"])["Cmd"], json!(["-i", "x"]));
    }
}
