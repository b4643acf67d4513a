//! `container inspect` and the generic `inspect`, which tries each object type in
//! docker's order (container, image, network, volume, plugin) unless `--type` says which.

use std::process::ExitCode;

use anyhow::Result;
use berth_client::{Client, ClientError};
use http::StatusCode;
use serde_json::Value;

use super::encode_id;
use super::status::StatusError;
use crate::cli::query::Query;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct ContainerInspectArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Display total file sizes
    #[arg(short = 's', long)]
    pub size: bool,
    #[arg(value_name = "CONTAINER", required = true)]
    pub containers: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// Format output using a custom template: 'json' or a Go template
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    /// Display total file sizes if the type is container
    #[arg(short = 's', long)]
    pub size: bool,
    /// Only inspect objects of the given type
    #[arg(long = "type")]
    pub kind: Option<String>,
    #[arg(value_name = "NAME|ID", required = true)]
    pub names: Vec<String>,
}

const TYPES: &[&str] = &[
    "config",
    "container",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "task",
    "volume",
];

/// The types looked up when none is given, in docker's order, with their paths.
const AUTODETECT: &[(&str, &str)] = &[
    ("container", "/containers/{}/json"),
    ("image", "/images/{}/json"),
    ("network", "/networks/{}"),
    ("volume", "/volumes/{}"),
    ("plugin", "/plugins/{}/json"),
];

fn type_list() -> String {
    TYPES.join("\", \"")
}

/// Fails with status 64 for a template that does not parse, as docker's `inspect.Inspect`
/// does before it looks anything up.
pub fn check_format(format: Option<&str>) -> Result<()> {
    if let Some(f) = format.filter(|f| !f.is_empty() && *f != "json") {
        if let Err(e) = berth_format::Template::parse(f) {
            return Err(StatusError::new(e.to_string(), 64).into());
        }
    }
    Ok(())
}

/// Renders the objects found, then fails with the errors (exit 1), or with 64 for a
/// template that does not parse — docker's `inspect.Inspect`.
pub fn finish(format: Option<&str>, found: &[Value], errors: Vec<String>) -> Result<ExitCode> {
    check_format(format)?;
    let mut out = std::io::stdout().lock();
    let rendered = crate::cli::output::render_objects(&mut out, format, found);
    let mut errors = errors;
    if let Err(e) = rendered {
        errors.push(e.to_string());
    }
    if errors.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(StatusError::new(errors.join("\n"), 1).into())
    }
}

async fn get_container(client: &mut Client, name: &str, size: bool) -> Result<Value, ClientError> {
    let mut q = Query::new();
    if size {
        q.push("size", "1");
    }
    client
        .get_json(&q.path(&format!("/containers/{}/json", encode_id(name))))
        .await
}

pub async fn container_inspect(g: &GlobalOptions, args: ContainerInspectArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let (mut found, mut errors) = (Vec::new(), Vec::new());
    for name in &args.containers {
        match get_container(&mut client, name, args.size).await {
            Ok(v) => found.push(v),
            Err(e) => errors.push(e.to_string()),
        }
    }
    finish(args.format.as_deref(), &found, errors)
}

/// An error that means "not this type, try the next".
fn skippable(e: &ClientError) -> bool {
    let text = e.to_string();
    matches!(
        e,
        ClientError::Daemon {
            status: StatusCode::NOT_FOUND,
            ..
        }
    ) || text.contains("not supported")
        || text.contains("invalid reference format")
}

pub async fn inspect(g: &GlobalOptions, args: InspectArgs) -> Result<ExitCode> {
    let kind = args.kind.as_deref();
    match kind {
        Some("") => anyhow::bail!("type is empty: must be one of \"{}\"", type_list()),
        Some(k) if !TYPES.contains(&k) => {
            anyhow::bail!("unknown type: {k:?}: must be one of \"{}\"", type_list())
        }
        _ => {}
    }
    let mut client = g.client()?;
    let (mut found, mut errors) = (Vec::new(), Vec::new());
    'names: for name in &args.names {
        for (t, path) in AUTODETECT {
            if kind.is_some_and(|k| k != *t) {
                continue;
            }
            let result = if *t == "container" {
                get_container(&mut client, name, args.size).await
            } else {
                client.get_json(&path.replace("{}", &encode_id(name))).await
            };
            match result {
                Ok(v) => {
                    if args.size && *t != "container" {
                        eprintln!("WARNING: --size ignored for {t}");
                    }
                    found.push(v);
                    continue 'names;
                }
                Err(e) if kind.is_none() && skippable(&e) => continue,
                Err(e) => {
                    errors.push(e.to_string());
                    continue 'names;
                }
            }
        }
        errors.push(format!("Error: No such object: {name}"));
    }
    finish(args.format.as_deref(), &found, errors)
}
