//! `commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]`: a new image from a container's
//! changes. The reference is checked and split here, as the docker client does, before
//! `POST /commit`; the new image's ID is printed.

use std::process::ExitCode;

use anyhow::Result;
use berth_core::Reference;
use clap::ArgAction;
use http::Method;
use serde_json::Value;

use super::values;
use crate::cli::query::Query;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct CommitArgs {
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short = 'a', long)]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change", allow_hyphen_values = true)]
    pub changes: Vec<String>,
    /// Commit message
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Pause container during commit
    #[arg(short = 'p', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "true", action = ArgAction::Set, value_parser = values::go_bool)]
    pub pause: bool,
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

pub async fn commit(g: &GlobalOptions, args: CommitArgs) -> Result<ExitCode> {
    let mut q = Query::new();
    q.push("container", args.container.trim());
    if let Some(r) = args.reference.as_deref().filter(|r| !r.is_empty()) {
        let r = Reference::parse_normalized(r)?;
        if r.digest().is_some() {
            anyhow::bail!("refusing to create a tag with a digest reference");
        }
        let r = r.with_default_tag();
        q.push("repo", &r.name());
        if let Some(tag) = r.tag() {
            q.push("tag", tag);
        }
    }
    if let Some(m) = args.message.as_deref().filter(|m| !m.is_empty()) {
        q.push("comment", m);
    }
    if let Some(a) = args.author.as_deref().filter(|a| !a.is_empty()) {
        q.push("author", a);
    }
    for c in &args.changes {
        q.push("changes", c);
    }
    if !args.pause {
        q.push("pause", "0");
    }
    let mut client = g.client()?;
    let res = client
        .request(Method::POST, &q.path("/commit"), None)
        .await?;
    let body: Value = serde_json::from_slice(&berth_client::read_body(res).await?)?;
    println!("{}", body["Id"].as_str().unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}
