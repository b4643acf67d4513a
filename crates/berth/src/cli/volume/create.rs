//! `volume create [OPTIONS] [VOLUME]`: flags → the `POST /volumes/create` body (empty
//! fields left out, as the Go client's `omitempty` does), then the new volume's name.

use std::process::ExitCode;

use anyhow::Result;
use http::Method;
use serde_json::{json, Map, Value};

use crate::cli::container::values;
use crate::cli::network::key_values;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short = 'd', long, default_value = "local")]
    pub driver: String,
    /// Specify volume name
    #[arg(long, default_value = "", hide = true)]
    pub name: String,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt", value_name = "map")]
    pub opts: Vec<String>,
    /// Set metadata for a volume
    #[arg(long = "label", value_name = "list", value_parser = values::label)]
    pub labels: Vec<String>,
    #[arg(value_name = "VOLUME")]
    pub volume: Option<String>,
}

/// The request body docker sends: `Driver`, `DriverOpts`, `Labels`, `Name`, each only
/// when set.
fn create_body(args: &CreateArgs) -> Result<Value, String> {
    let name = match &args.volume {
        Some(_) if !args.name.is_empty() => {
            return Err("conflicting options: cannot specify a volume-name through both --name and as a positional arg".into())
        }
        Some(v) => v.clone(),
        None => args.name.clone(),
    };
    let mut body = Map::new();
    if !args.driver.is_empty() {
        body.insert("Driver".into(), json!(args.driver));
    }
    if !args.opts.is_empty() {
        body.insert("DriverOpts".into(), json!(key_values(&args.opts)));
    }
    if !args.labels.is_empty() {
        body.insert("Labels".into(), json!(key_values(&args.labels)));
    }
    if !name.is_empty() {
        body.insert("Name".into(), json!(name));
    }
    Ok(Value::Object(body))
}

pub async fn create(g: &GlobalOptions, args: CreateArgs) -> Result<ExitCode> {
    let body = create_body(&args).map_err(anyhow::Error::msg)?;
    let mut client = g.client()?;
    let res = client
        .request_json(Method::POST, "/volumes/create", &body)
        .await?;
    let created: Value = serde_json::from_slice(&berth_client::read_body(res).await?)?;
    println!("{}", created["Name"].as_str().unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        args: CreateArgs,
    }

    fn body(argv: &[&str]) -> Result<String, String> {
        let args = Cmd::try_parse_from(std::iter::once("create").chain(argv.iter().copied()))
            .map_err(|e| e.to_string())?
            .args;
        create_body(&args).map(|b| b.to_string())
    }

    #[test]
    fn bodies_leave_out_what_is_not_set() {
        assert_eq!(body(&[]).unwrap(), r#"{"Driver":"local"}"#);
        assert_eq!(body(&["v1"]).unwrap(), r#"{"Driver":"local","Name":"v1"}"#);
        assert_eq!(
            body(&[
                "-d",
                "nfs",
                "-o",
                "type=tmpfs",
                "--opt",
                "o=size=1m,uid=1",
                "--label",
                "b",
                "--label",
                "a=1",
                "--name",
                "v2"
            ])
            .unwrap(),
            r#"{"Driver":"nfs","DriverOpts":{"o":"size=1m,uid=1","type":"tmpfs"},"Labels":{"a":"1","b":""},"Name":"v2"}"#
        );
    }

    #[test]
    fn name_twice_and_bad_labels_are_refused() {
        assert_eq!(
            body(&["--name", "a", "b"]).unwrap_err(),
            "conflicting options: cannot specify a volume-name through both --name and as a positional arg"
        );
        assert!(body(&["--label", "=x"])
            .unwrap_err()
            .contains("invalid label '=x': empty name"));
    }
}
