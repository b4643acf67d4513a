//! `berth system df`: disk usage, as `docker system df` shows it.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use serde_json::{json, Value};

use super::units::{human_duration, human_size, human_size_precision, since};
use super::{images::short_id, output, GlobalOptions};

#[derive(clap::Args, Debug)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short, long)]
    pub verbose: bool,
    /// Format output using a custom template
    #[arg(long)]
    pub format: Option<String>,
}

const TABLE: &str = "table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
const HEADERS: &[(&str, &str)] = &[
    ("Type", "TYPE"),
    ("TotalCount", "TOTAL"),
    ("Active", "ACTIVE"),
    ("Size", "SIZE"),
    ("Reclaimable", "RECLAIMABLE"),
];

/// go-units' `HumanSize` (4 significant digits), which the summary table uses.
fn human(bytes: u64) -> String {
    human_size_precision(bytes as f64, 4)
}

/// `2.14MB (100%)`, as docker prints reclaimable space.
fn reclaimable(reclaim: u64, total: u64) -> String {
    if total == 0 {
        return human(reclaim);
    }
    format!("{} ({}%)", human(reclaim), reclaim * 100 / total)
}

/// Running, paused and restarting containers count as active (docker's `isActive`).
fn is_active(c: &Value) -> bool {
    matches!(
        c["State"].as_str(),
        Some("running" | "paused" | "restarting")
    )
}

/// The summary's Containers row: writable layers, reclaimable unless the container is
/// active.
fn containers_row(df: &Value) -> Value {
    let list = df["Containers"].as_array().cloned().unwrap_or_default();
    let size = |c: &Value| c["SizeRw"].as_u64().unwrap_or(0);
    let total: u64 = list.iter().map(size).sum();
    let reclaim: u64 = list.iter().filter(|c| !is_active(c)).map(size).sum();
    json!({
        "Type": "Containers",
        "TotalCount": list.len().to_string(),
        "Active": list.iter().filter(|c| is_active(c)).count().to_string(),
        "Size": human(total),
        "Reclaimable": reclaimable(reclaim, total),
    })
}

/// The summary's Build Cache row (docker sums the records not shared).
fn build_cache_row(df: &Value) -> Value {
    let list = df["BuildCache"].as_array().cloned().unwrap_or_default();
    let size = |c: &Value| c["Size"].as_u64().unwrap_or(0);
    let total: u64 = list
        .iter()
        .filter(|c| !c["Shared"].as_bool().unwrap_or(false))
        .map(size)
        .sum();
    let in_use: u64 = list
        .iter()
        .filter(|c| {
            c["InUse"].as_bool().unwrap_or(false) && !c["Shared"].as_bool().unwrap_or(false)
        })
        .map(size)
        .sum();
    json!({
        "Type": "Build Cache",
        "TotalCount": list.len().to_string(),
        "Active": list.iter().filter(|c| c["InUse"].as_bool().unwrap_or(false)).count().to_string(),
        "Size": human(total),
        "Reclaimable": human(total.saturating_sub(in_use)),
    })
}

pub async fn run(g: &GlobalOptions, args: DfArgs) -> Result<ExitCode> {
    let mut client = g.client()?;
    let df: Value = client.get_json("/system/df").await?;
    let images = df["Images"].as_array().cloned().unwrap_or_default();
    let layers = df["LayersSize"].as_u64().unwrap_or(0);
    let active = images
        .iter()
        .filter(|i| i["Containers"].as_i64().unwrap_or(0) > 0)
        .count();
    let used: u64 = images
        .iter()
        .filter(|i| i["Containers"].as_i64().unwrap_or(0) > 0)
        .map(|i| {
            i["Size"]
                .as_u64()
                .unwrap_or(0)
                .saturating_sub(i["SharedSize"].as_u64().unwrap_or(0))
        })
        .sum();
    let rows = vec![
        json!({"Type": "Images", "TotalCount": images.len().to_string(), "Active": active.to_string(),
               "Size": human(layers), "Reclaimable": reclaimable(layers - used.min(layers), layers)}),
        containers_row(&df),
        super::volume::df::summary_row(&df),
        build_cache_row(&df),
    ];
    let mut out = std::io::stdout().lock();
    if !args.verbose {
        output::render_list(&mut out, args.format.as_deref(), TABLE, HEADERS, &rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "Images space usage:\n")?;
    let image_rows: Vec<Value> = images
        .iter()
        .flat_map(|i| {
            let tags: Vec<String> = i["RepoTags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_owned)).collect();
            // One row per image, under its first tag, as docker shows it.
            let tags = vec![tags.into_iter().next().unwrap_or_else(|| "<none>:<none>".to_owned())];
            tags.into_iter().map(move |t| {
                let (repo, tag) = t.rsplit_once(':').map_or((t.clone(), String::new()), |(r, t)| (r.to_owned(), t.to_owned()));
                let size = i["Size"].as_u64().unwrap_or(0);
                let shared = i["SharedSize"].as_u64().unwrap_or(0);
                json!({
                    "Repository": repo, "Tag": tag,
                    "ID": short_id(i["Id"].as_str().unwrap_or_default(), false),
                    "CreatedSince": format!("{} ago", human_duration(since(i["Created"].as_i64().unwrap_or(0)))),
                    "Size": human_size(size as f64),
                    "SharedSize": human(shared),
                    "UniqueSize": human(size - shared.min(size)),
                    "Containers": match i["Containers"].as_i64() {
                        Some(-1) => "N/A".to_owned(),
                        _ => i["Containers"].to_string(),
                    },
                })
            })
        })
        .collect();
    output::render_list(
        &mut out,
        None,
        "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
        &[("Repository", "REPOSITORY"), ("Tag", "TAG"), ("ID", "IMAGE ID"), ("CreatedSince", "CREATED"), ("Size", "SIZE"),
          ("SharedSize", "SHARED SIZE"), ("UniqueSize", "UNIQUE SIZE"), ("Containers", "CONTAINERS")],
        &image_rows,
    )?;
    writeln!(out, "\nContainers space usage:\n")?;
    let container_rows: Vec<Value> = df["Containers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            // The virtual size is not shown here.
            let mut c = c.clone();
            c["SizeRootFs"] = json!(0);
            super::container::container_row(&c, true)
        })
        .collect();
    output::render_list(
        &mut out,
        None,
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
        super::container::CONTAINER_HEADERS,
        &container_rows,
    )?;
    super::volume::df::write_verbose(&mut out, &df)?;
    writeln!(
        out,
        "\nBuild cache usage: {}\n",
        build_cache_row(&df)["Size"].as_str().unwrap_or("0B")
    )?;
    writeln!(
        out,
        "CACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED"
    )?;
    Ok(ExitCode::SUCCESS)
}
