//! `volume rm` (each name printed as it goes, the errors joined on stderr, exit 1 if
//! any) and `volume prune` (docker's prompt, the `Deleted Volumes:` list and
//! `Total reclaimed space:`).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use berth_api::{ApiVersion, Filters};
use clap::ArgAction;
use http::Method;
use serde_json::Value;

use super::trim_name;
use crate::cli::container::status::StatusError;
use crate::cli::container::{encode_id, values};
use crate::cli::query::Query;
use crate::cli::units::human_size_precision;
use crate::cli::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct RemoveArgs {
    /// Force the removal of one or more volumes
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub force: bool,
    #[arg(value_name = "VOLUME", required = true)]
    pub volumes: Vec<String>,
}

/// `DELETE /volumes/{name}`, with `force=1` when asked.
fn remove_path(name: &str, force: bool) -> Result<String, String> {
    let mut q = Query::new();
    if force {
        q.push("force", "1");
    }
    Ok(q.path(&format!("/volumes/{}", encode_id(trim_name(name)?))))
}

pub async fn remove(g: &GlobalOptions, args: RemoveArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let mut errors = Vec::new();
    for name in &args.volumes {
        let path = match remove_path(name, args.force) {
            Ok(p) => p,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        match client.request(Method::DELETE, &path, None).await {
            Ok(_) => println!("{name}"),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    // docker's `errors.Join`: one message per line, exit status 1.
    Err(StatusError::new(errors.join("\n"), 1).into())
}

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short = 'a', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub all: bool,
    /// Provide filter values (e.g. "label=<label>")
    #[arg(long = "filter", value_parser = values::filter)]
    pub filters: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub force: bool,
}

const UNUSED_WARNING: &str =
    "WARNING! This will remove anonymous local volumes not used by at least one container.";
const ALL_WARNING: &str =
    "WARNING! This will remove all local volumes not used by at least one container.";

/// The filters sent and the warning shown, as docker's `runPrune` decides them: `--all`
/// becomes `all=true` from API 1.42; before it every unused volume goes anyway.
fn prune_plan(args: &PruneArgs, version: ApiVersion) -> Result<(Filters, &'static str), String> {
    let mut filters = Filters::from_cli_args(args.filters.iter().map(String::as_str))?;
    if version < ApiVersion::new(1, 42) {
        return Ok((filters, ALL_WARNING));
    }
    if !args.all {
        return Ok((filters, UNUSED_WARNING));
    }
    if filters.contains("all") {
        return Err("conflicting options: cannot specify both --all and --filter all=1".into());
    }
    filters.add("all", "true");
    Ok((filters, ALL_WARNING))
}

/// The report as docker prints it: the deleted names (if any), a blank line, and the
/// space reclaimed (only counted when something was deleted).
fn write_report(out: &mut dyn Write, report: &Value) -> std::io::Result<()> {
    let deleted: Vec<&str> = report["VolumesDeleted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut reclaimed = 0u64;
    if !deleted.is_empty() {
        writeln!(out, "Deleted Volumes:")?;
        for name in &deleted {
            writeln!(out, "{name}")?;
        }
        writeln!(out)?;
        reclaimed = report["SpaceReclaimed"].as_u64().unwrap_or(0);
    }
    writeln!(
        out,
        "Total reclaimed space: {}",
        human_size_precision(reclaimed as f64, 4)
    )
}

pub async fn prune(g: &GlobalOptions, args: PruneArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let version = client.negotiate().await?;
    let (filters, warning) = prune_plan(&args, version).map_err(anyhow::Error::msg)?;
    // Declining is a cancellation, which docker ends quietly with status 0.
    if !args.force && !crate::cli::confirm(warning)? {
        return Ok(ExitCode::SUCCESS);
    }
    let mut q = Query::new();
    if !filters.is_empty() {
        q.push("filters", &filters.to_json());
    }
    let res = client
        .request(Method::POST, &q.path("/volumes/prune"), None)
        .await?;
    let report: Value = serde_json::from_slice(&berth_client::read_body(res).await?)
        .map_err(|e| anyhow::anyhow!("Error retrieving volume prune report: {e}"))?;
    write_report(&mut std::io::stdout().lock(), &report)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(v: Value) -> String {
        let mut out = Vec::new();
        write_report(&mut out, &v).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn reports_list_names_then_the_total() {
        assert_eq!(
            report(json!({"VolumesDeleted": ["a", "b"], "SpaceReclaimed": 12345})),
            "Deleted Volumes:\na\nb\n\nTotal reclaimed space: 12.35kB\n"
        );
        assert_eq!(
            report(json!({"VolumesDeleted": [], "SpaceReclaimed": 0})),
            "Total reclaimed space: 0B\n"
        );
        assert_eq!(
            report(json!({"VolumesDeleted": null, "SpaceReclaimed": 99})),
            "Total reclaimed space: 0B\n"
        );
    }

    fn args(all: bool, filters: &[&str]) -> PruneArgs {
        PruneArgs {
            all,
            filters: filters.iter().map(|s| s.to_string()).collect(),
            force: true,
        }
    }

    #[test]
    fn all_becomes_a_filter_from_api_1_42() {
        let new = ApiVersion::new(1, 50);
        let (f, w) = prune_plan(&args(false, &["label=x"]), new).unwrap();
        assert_eq!(f.to_json(), r#"{"label":{"x":true}}"#);
        assert_eq!(w, UNUSED_WARNING);
        let (f, w) = prune_plan(&args(true, &[]), new).unwrap();
        assert_eq!(f.to_json(), r#"{"all":{"true":true}}"#);
        assert_eq!(w, ALL_WARNING);
        assert_eq!(
            prune_plan(&args(true, &["all=1"]), new).unwrap_err(),
            "conflicting options: cannot specify both --all and --filter all=1"
        );
        let (f, w) = prune_plan(&args(true, &[]), ApiVersion::new(1, 41)).unwrap();
        assert!(f.is_empty());
        assert_eq!(w, ALL_WARNING);
    }

    #[test]
    fn remove_paths_carry_force() {
        assert_eq!(remove_path("v1", false).unwrap(), "/volumes/v1");
        assert_eq!(remove_path("v1", true).unwrap(), "/volumes/v1?force=1");
        assert!(remove_path("", true).is_err());
    }
}
