//! `system prune`: docker's confirmation (what will go, and the filters), then the prunes
//! in docker's order (containers, networks, volumes with `--volumes`, images, build cache),
//! each one's report, and the total space reclaimed.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{bail, Result};
use berth_api::Filters;
use clap::ArgAction;
use http::Method;
use serde_json::Value;

use super::container::values;
use super::query::Query;
use super::units::human_size_precision;
use super::GlobalOptions;

#[derive(clap::Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images not just dangling ones
    #[arg(short = 'a', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub all: bool,
    /// Provide filter values (e.g. "label=<key>=<value>")
    #[arg(long = "filter", value_parser = values::filter)]
    pub filters: Vec<String>,
    /// Do not prompt for confirmation
    #[arg(short = 'f', long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub force: bool,
    /// Prune anonymous volumes
    #[arg(long, num_args = 0..=1, require_equals = true, default_missing_value = "true", default_value = "false", action = ArgAction::Set, value_parser = values::go_bool)]
    pub volumes: bool,
}

/// docker's `confirmationMessage` (its template, rendered).
fn confirmation(args: &PruneArgs, filters: &Filters) -> String {
    let mut warnings = vec![
        "all stopped containers",
        "all networks not used by at least one container",
    ];
    if args.volumes {
        warnings.push("all anonymous volumes not used by at least one container");
    }
    warnings.push(if args.all {
        "all images without at least one container associated to them"
    } else {
        "all dangling images"
    });
    warnings.push(if args.all {
        "all build cache"
    } else {
        "unused build cache"
    });
    let mut text = String::from("WARNING! This will remove:");
    for w in warnings {
        text.push_str("\n  - ");
        text.push_str(w);
    }
    text.push('\n');
    let mut shown: Vec<String> = ["label", "label!", "until"]
        .iter()
        .flat_map(|k| filters.get(k).map(move |v| format!("{k}={v}")))
        .collect();
    if !shown.is_empty() {
        shown.sort_by(|a, b| super::natural::compare(a, b));
        text.push_str("\n  Items to be pruned will be filtered with:");
        for f in shown {
            text.push_str("\n  - ");
            text.push_str(&f);
        }
        text.push('\n');
    }
    text.push_str("\nAre you sure you want to continue?");
    text
}

/// docker's `prompt.Confirm`: the message, ` [y/N] `, and a `y` answer.
fn confirm(message: &str) -> Result<bool> {
    let mut out = std::io::stdout().lock();
    write!(out, "{message} [y/N] ")?;
    out.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y"))
}

/// One prune call: its report, the section docker prints for it (if anything went), and
/// the space it counts.
struct Section {
    title: &'static str,
    path: &'static str,
    /// The report's list of what went.
    list: &'static str,
    /// Whether its space counts only when something was deleted (all but build cache).
    space_if_deleted: bool,
}

const CONTAINERS: Section = Section {
    title: "Deleted Containers:",
    path: "/containers/prune",
    list: "ContainersDeleted",
    space_if_deleted: true,
};
const NETWORKS: Section = Section {
    title: "Deleted Networks:",
    path: "/networks/prune",
    list: "NetworksDeleted",
    space_if_deleted: true,
};
const VOLUMES: Section = Section {
    title: "Deleted Volumes:",
    path: "/volumes/prune",
    list: "VolumesDeleted",
    space_if_deleted: true,
};
const IMAGES: Section = Section {
    title: "Deleted Images:",
    path: "/images/prune",
    list: "ImagesDeleted",
    space_if_deleted: true,
};
const BUILD_CACHE: Section = Section {
    title: "Deleted build cache objects:",
    path: "/build/prune",
    list: "CachesDeleted",
    space_if_deleted: false,
};

/// The lines a report's list prints as (images: `untagged: …` / `deleted: …`).
fn lines(section: &Section, report: &Value) -> Vec<String> {
    report[section.list]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| match v {
            Value::String(s) => s.clone(),
            other => match other["Untagged"].as_str().filter(|s| !s.is_empty()) {
                Some(u) => format!("untagged: {u}"),
                None => format!("deleted: {}", other["Deleted"].as_str().unwrap_or_default()),
            },
        })
        .collect()
}

/// Prints a section as docker does (the list, then the blank line `Fprintln` adds) and
/// returns the space it counts.
fn write_section(out: &mut dyn Write, section: &Section, report: &Value) -> Result<u64> {
    let lines = lines(section, report);
    let space = report["SpaceReclaimed"].as_u64().unwrap_or(0);
    if lines.is_empty() {
        return Ok(if section.space_if_deleted { 0 } else { space });
    }
    writeln!(out, "{}", section.title)?;
    for l in lines {
        writeln!(out, "{l}")?;
    }
    writeln!(out)?;
    Ok(space)
}

pub async fn run(g: &GlobalOptions, args: PruneArgs) -> Result<ExitCode> {
    let filters = Filters::from_cli_args(args.filters.iter().map(String::as_str))
        .map_err(anyhow::Error::msg)?;
    if args.volumes && filters.get("until").next().is_some() {
        bail!(r#"ERROR: The "until" filter is not supported with "--volumes""#);
    }
    // Declining is a cancellation, which docker ends quietly with status 0.
    if !args.force && !confirm(&confirmation(&args, &filters))? {
        return Ok(ExitCode::SUCCESS);
    }
    let mut sections = vec![&CONTAINERS, &NETWORKS];
    if args.volumes {
        sections.push(&VOLUMES);
    }
    sections.extend([&IMAGES, &BUILD_CACHE]);
    let mut client = g.client()?;
    let mut total = 0u64;
    for section in sections {
        let mut f = filters.clone();
        if std::ptr::eq(section, &IMAGES) {
            f.add("dangling", if args.all { "false" } else { "true" });
        }
        let mut q = Query::new();
        if !f.is_empty() {
            q.push("filters", &f.to_json());
        }
        let res = client
            .request(Method::POST, &q.path(section.path), None)
            .await?;
        let report: Value = serde_json::from_slice(&berth_client::read_body(res).await?)?;
        total += write_section(&mut std::io::stdout().lock(), section, &report)?;
    }
    println!(
        "Total reclaimed space: {}",
        human_size_precision(total as f64, 4)
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::json;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: PruneArgs,
    }

    fn args(argv: &[&str]) -> PruneArgs {
        Cli::parse_from([&["prune"], argv].concat()).args
    }

    #[test]
    fn the_confirmation_reads_as_dockers() {
        let a = args(&[]);
        assert_eq!(
            confirmation(&a, &Filters::default()),
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all dangling images\n  - unused build cache\n\nAre you sure you want to continue?"
        );
        let a = args(&[
            "-a",
            "--volumes",
            "--filter",
            "label=b",
            "--filter",
            "label=a",
        ]);
        let f = Filters::from_cli_args(a.filters.iter().map(String::as_str)).unwrap();
        assert_eq!(
            confirmation(&a, &f),
            "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n  - all anonymous volumes not used by at least one container\n  - all images without at least one container associated to them\n  - all build cache\n\n  Items to be pruned will be filtered with:\n  - label=a\n  - label=b\n\nAre you sure you want to continue?"
        );
    }

    #[test]
    fn sections_print_only_what_went() {
        let mut out = Vec::new();
        let space = write_section(
            &mut out,
            &IMAGES,
            &json!({"ImagesDeleted": [{"Untagged": "x:latest"}, {"Deleted": "sha256:1"}], "SpaceReclaimed": 5}),
        )
        .unwrap();
        assert_eq!(space, 5);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Deleted Images:\nuntagged: x:latest\ndeleted: sha256:1\n\n"
        );
        let mut out = Vec::new();
        let none = json!({"ContainersDeleted": null, "SpaceReclaimed": 7});
        assert_eq!(write_section(&mut out, &CONTAINERS, &none).unwrap(), 0);
        assert!(out.is_empty());
        let cache = json!({"CachesDeleted": null, "SpaceReclaimed": 7});
        assert_eq!(write_section(&mut out, &BUILD_CACHE, &cache).unwrap(), 7);
    }
}
